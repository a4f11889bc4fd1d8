import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CofferApp } from '../app.js';
import { ADMIN_PRINCIPAL_NAME } from '../app/bootstrap.js';
import type { CofferConfig } from '../config/types.js';
import type { IssuedCredentials } from '../identity/types.js';
import { KEY_VAULT_ADMINISTRATOR_ROLE_ID } from '../policy/role-service.js';
import { createDevUnsealKey, readDevUnsealKey, removeDevUnsealKey } from '../seal/dev-key.js';

export interface DevFacts {
  url: string;
  vaultName: string;
  vaultUrl: string;
  baseDomain: string;
  tenantId: string;
  /** Resource Manager's subscription (CONTRACT section 12). */
  subscriptionId: string;
  authorityHost: string;
  clientId: string;
  clientSecret: string;
  caFile: string;
}

/**
 * Dev mode: initialise on first start, unseal from the key file on every start, make sure the
 * `dev` vault and an administrator exist, and reuse the administrator's credentials from
 * dev.json across restarts. NOT FOR PRODUCTION: the unseal key sits next to the data.
 */
export async function prepareDevServer(app: CofferApp, config: CofferConfig): Promise<IssuedCredentials> {
  const keyFile = devUnsealKeyPath(config.dataDir);
  const state = await app.seal.storeState();
  let admin: IssuedCredentials | undefined;
  if (state === 'initialized') {
    const unsealKey = readDevUnsealKey(keyFile);
    if (!unsealKey) {
      throw new Error(
        `the store in ${config.dataDir} is initialised but its unseal key ${keyFile} is missing. Restore unseal.key from a backup of this data dir: a new key could not open this store, so none is made.`,
      );
    }
    await app.seal.unsealWithKey(unsealKey);
  } else {
    if (state === 'empty' && existsSync(keyFile)) throw storeMissing(config.dataDir, keyFile);
    admin = await initializeDevStore(app, keyFile);
    // The key was just written; read it back as a later start will.
    await app.seal.unsealWithKey(readDevUnsealKey(keyFile)!);
  }
  admin ??= await reuseOrResetAdmin(app, config);
  // CONTRACT section 2: the dev administrator holds Key Vault Administrator on every vault, also in
  // data dirs made before roles existed or after a reset of the administrator.
  await app.roles.ensureAssignment(KEY_VAULT_ADMINISTRATOR_ROLE_ID, admin.objectId, '/');
  const vaultName = config.defaultVault ?? 'dev';
  if (!(await app.vaults.find(vaultName))) await app.vaults.create(vaultName);
  return admin;
}

/** Dev mode, a worker after the first: the first one initialised the store; open it with the key file. */
export async function unsealDevFollower(app: CofferApp, config: CofferConfig): Promise<void> {
  const keyFile = devUnsealKeyPath(config.dataDir);
  const unsealKey = readDevUnsealKey(keyFile);
  if (!unsealKey)
    throw new Error(`the dev unseal key ${keyFile} is missing: the first worker did not write it.`);
  await app.seal.unsealWithKey(unsealKey);
}

/**
 * A first start (or the redo of one that was interrupted, whose key file may already exist). A
 * key file this attempt wrote is removed again if the attempt fails, so a failed start leaves
 * neither a key for a store that does not exist nor a half-initialised store.
 */
async function initializeDevStore(app: CofferApp, keyFile: string): Promise<IssuedCredentials> {
  let created = false;
  const unsealKey = () => {
    const existing = readDevUnsealKey(keyFile);
    if (existing) return existing;
    created = true;
    return createDevUnsealKey(keyFile);
  };
  try {
    const result = await app.seal.initialize(
      { type: 'dev-key', shares: 1, threshold: 1, unsealKey },
      app.bootstrap,
    );
    return result.bootstrapped;
  } catch (error) {
    if (created) removeDevUnsealKey(keyFile);
    throw error;
  }
}

/** An unseal key without a store: the store was deleted or replaced, and a new one would hide that. */
function storeMissing(dataDir: string, keyFile: string): Error {
  return new Error(
    `${keyFile} exists but the store in ${dataDir} (coffer.db) is missing or empty: it was deleted or replaced. ` +
      'Restore coffer.db (with coffer.db-wal if there was one) from a backup of this data dir. ' +
      'Only if nothing in it is needed, delete the whole data dir to start over.',
  );
}

export function devUnsealKeyPath(dataDir: string): string {
  return path.join(dataDir, 'unseal.key');
}

async function reuseOrResetAdmin(app: CofferApp, config: CofferConfig): Promise<IssuedCredentials> {
  const previous = readDevFacts(config.dataDir);
  if (previous) {
    const record = await app.principals.verifyClientSecret(previous.clientId, previous.clientSecret);
    if (record?.administrator) {
      return {
        objectId: record.objectId,
        clientId: record.clientId,
        clientSecret: previous.clientSecret,
        tenantId: previous.tenantId,
        name: record.name,
      };
    }
  }
  // dev.json was lost or edited: give the administrator a fresh secret rather than lock the developer out.
  const existing = (await app.principals.list()).find(
    (record) => record.name === ADMIN_PRINCIPAL_NAME && record.administrator,
  );
  if (existing) return app.principals.resetSecret(existing.objectId);
  return app.principals.create({ name: ADMIN_PRINCIPAL_NAME, administrator: true });
}

export function devFactsPath(dataDir: string): string {
  return path.join(dataDir, 'dev.json');
}

function readDevFacts(dataDir: string): DevFacts | undefined {
  const file = devFactsPath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevFacts;
  } catch {
    return undefined;
  }
}

/** Written atomically (temp file + rename) with mode 0600: it holds a client secret. */
export function writeDevFacts(dataDir: string, facts: DevFacts): void {
  const file = devFactsPath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(facts, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
