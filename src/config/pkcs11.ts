import { readFileSync, statSync } from 'node:fs';

/** A PKCS#11 token and how to log in to it (the key provider's, or the seal's). */
export interface Pkcs11Settings {
  library: string;
  slot?: number;
  tokenLabel?: string;
  /** The user PIN, read from the environment or a file at start-up; never from the config file. */
  pin: string;
  /** Sessions kept open on the token: as many operations run in it at once. */
  sessions: number;
  /** Label of the CKA_TRUSTED AES key that wraps HSM keys in backups; absent: HSM keys are never extractable. */
  backupKeyLabel?: string;
}

/** `seal: {type: "pkcs11", ...}`: auto-unseal with an AES key that never leaves the token. */
export interface Pkcs11SealSettings {
  type: 'pkcs11';
  token: Pkcs11Settings;
  keyLabel: string;
}

type Section = Record<string, unknown>;
type Environment = NodeJS.ProcessEnv;

const DEFAULT_PIN_ENV = 'COFFER_PKCS11_PIN';
const DEFAULT_SESSIONS = 4;
const PKCS11_KEYS = ['library', 'slot', 'tokenLabel', 'pinEnv', 'pinFile', 'sessions', 'backupKeyLabel'];
const SEAL_KEYS = ['type', 'keyLabel', 'library', 'slot', 'tokenLabel', 'pinEnv', 'pinFile'];

function section(value: unknown, name: string, allowed: string[]): Section {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${name} must be an object.`);
  const keys = Object.keys(value);
  if (keys.includes('pin')) {
    throw new Error(
      `${name}.pin is not read from the config file, which is often shared or versioned: give the PIN in an environment variable (${name}.pinEnv, default ${DEFAULT_PIN_ENV}) or a file readable by Coffer alone (${name}.pinFile).`,
    );
  }
  const unknown = keys.filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw new Error(`unknown ${name} setting(s) ${unknown.join(', ')}; known: ${allowed.join(', ')}`);
  return value as Section;
}

const text = (value: unknown) =>
  value === undefined || value === null || value === '' ? undefined : String(value);

function slotNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const slot = Number(value);
  if (!Number.isSafeInteger(slot) || slot < 0)
    throw new Error(`${name}.slot must be a slot id (a whole number); got '${value}'.`);
  return slot;
}

/** The PIN from the environment variable named by pinEnv, else from pinFile (which must be private to its owner). */
function readPin(settings: Section, env: Environment, name: string): string {
  const pinEnv = text(settings.pinEnv) ?? DEFAULT_PIN_ENV;
  const fromEnv = env[pinEnv];
  if (fromEnv) return fromEnv;
  const file = text(settings.pinFile) ?? env.COFFER_PKCS11_PIN_FILE;
  if (!file) {
    throw new Error(
      `${name} needs the token's user PIN: set ${pinEnv}, or ${name}.pinFile (COFFER_PKCS11_PIN_FILE).`,
    );
  }
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new Error(`cannot read the PIN file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: error,
    });
  }
  if ((mode & 0o077) !== 0) throw new Error(`the PIN file ${file} is readable by others: chmod 600 it.`);
  const pin = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (!pin) throw new Error(`the PIN file ${file} is empty.`);
  return pin;
}

function token(settings: Section, env: Environment, name: string, base?: Pkcs11Settings): Pkcs11Settings {
  const library = text(settings.library) ?? base?.library;
  if (!library)
    throw new Error(
      `${name}.library (the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so) is required.`,
    );
  const ownToken = settings.slot !== undefined || settings.tokenLabel !== undefined;
  const slot = ownToken ? slotNumber(text(settings.slot), name) : base?.slot;
  const tokenLabel = ownToken ? text(settings.tokenLabel) : base?.tokenLabel;
  if (slot === undefined && tokenLabel === undefined)
    throw new Error(`${name} needs tokenLabel (preferred) or slot.`);
  const pin =
    settings.pinEnv !== undefined || settings.pinFile !== undefined || !base
      ? readPin(settings, env, name)
      : base.pin;
  return { library, slot, tokenLabel, pin, sessions: DEFAULT_SESSIONS };
}

/** `pkcs11` from the config file, overridden by COFFER_PKCS11_* variables; undefined when no token is configured. */
export function readPkcs11(fileValue: unknown, env: Environment): Pkcs11Settings | undefined {
  const fromFile = section(fileValue, 'pkcs11', PKCS11_KEYS);
  const settings: Section = {
    ...fromFile,
    ...defined({
      library: env.COFFER_PKCS11_LIBRARY,
      slot: env.COFFER_PKCS11_SLOT,
      tokenLabel: env.COFFER_PKCS11_TOKEN_LABEL,
      sessions: env.COFFER_PKCS11_SESSIONS,
      backupKeyLabel: env.COFFER_PKCS11_BACKUP_KEY_LABEL,
    }),
  };
  if (text(settings.library) === undefined) return undefined;
  const sessions = Number(text(settings.sessions) ?? DEFAULT_SESSIONS);
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 256) {
    throw new Error(
      `pkcs11.sessions must be a whole number from 1 to 256; got '${String(settings.sessions)}'.`,
    );
  }
  return { ...token(settings, env, 'pkcs11'), sessions, backupKeyLabel: text(settings.backupKeyLabel) };
}

/** `seal`: Shamir by default; `pkcs11` wraps the unseal key with a token key, on the pkcs11 token unless it names its own. */
export function readSeal(
  fileValue: unknown,
  env: Environment,
  pkcs11: Pkcs11Settings | undefined,
): { type: 'shamir' } | Pkcs11SealSettings {
  const settings: Section = {
    ...section(fileValue, 'seal', SEAL_KEYS),
    ...defined({ type: env.COFFER_SEAL_TYPE, keyLabel: env.COFFER_SEAL_KEY_LABEL }),
  };
  const type = text(settings.type) ?? 'shamir';
  if (type === 'shamir') return { type };
  if (type !== 'pkcs11') throw new Error(`seal.type must be shamir, keyvault or pkcs11; got '${type}'.`);
  return {
    type,
    token: { ...token(settings, env, 'seal', pkcs11), sessions: 1, backupKeyLabel: undefined },
    keyLabel: text(settings.keyLabel) ?? 'coffer-seal',
  };
}

function defined(values: Record<string, string | undefined>): Section {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined && value !== ''),
  );
}
