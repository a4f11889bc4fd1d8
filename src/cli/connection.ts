import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './errors.js';
import { readProfile } from './profile.js';

/**
 * Where the CLI finds the server and its own credentials (CONTRACT section 7): each field comes
 * from its flag, else its environment variable, else one saved source: the dev.json named by
 * --dev-data-dir, else the profile `coffer login` saved, else `./.coffer-dev/dev.json`.
 */
export interface ConnectionFlags {
  url?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** A user's sign-in name: the CLI then signs in with that user's password. */
  username?: string;
  caFile?: string;
  devDataDir?: string;
  baseDomain?: string;
}

export interface Connection {
  /** Server base URL without a trailing slash, e.g. `https://localhost:8443`. */
  url: string;
  /** Where the token endpoint lives; the server itself unless dev.json says otherwise. */
  authorityHost: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  caFile?: string;
  baseDomain: string;
  /** The dev.json or profile that supplied values, named in error messages so people know what was used. */
  devFile?: string;
  /** A user's token cached by `coffer login`, used until it expires. */
  cachedToken?: { accessToken: string; expiresOn: string };
}

export const DEFAULT_URL = 'https://localhost:8443';
export const DEFAULT_BASE_DOMAIN = 'vault.localhost';
export const DEFAULT_DEV_DATA_DIR = '.coffer-dev';

const ENV_NAMES = {
  url: 'COFFER_URL',
  tenantId: 'COFFER_TENANT_ID',
  clientId: 'COFFER_CLIENT_ID',
  clientSecret: 'COFFER_CLIENT_SECRET',
  username: 'COFFER_USERNAME',
  caFile: 'COFFER_CA_FILE',
} as const;

type ConnectionField = keyof typeof ENV_NAMES;

interface DevFile {
  path: string;
  values: Partial<Record<ConnectionField | 'baseDomain' | 'authorityHost', string>>;
  token?: Connection['cachedToken'];
}

type Env = Readonly<Record<string, string | undefined>>;

export function resolveConnection(
  flags: ConnectionFlags,
  env: Env = process.env,
  cwd: string = process.cwd(),
  options: { ignoreProfile?: boolean } = {},
): Connection {
  const dev = devFileFor(flags, env, cwd, options.ignoreProfile === true);
  const pick = (field: ConnectionField): string | undefined =>
    nonEmpty(flags[field]) ?? nonEmpty(env[ENV_NAMES[field]]) ?? dev?.values[field];

  const urlSource = nonEmpty(flags.url) ?? nonEmpty(env[ENV_NAMES.url]);
  const url = normaliseUrl(urlSource ?? dev?.values.url ?? DEFAULT_URL);
  // dev.json's authority host belongs to dev.json's server; a URL given explicitly wins for both.
  const authorityHost =
    urlSource === undefined && dev?.values.authorityHost ? normaliseUrl(dev.values.authorityHost) : url;
  const baseDomain =
    nonEmpty(flags.baseDomain) ??
    nonEmpty(env['COFFER_BASE_DOMAIN']) ??
    dev?.values.baseDomain ??
    DEFAULT_BASE_DOMAIN;

  const connection: Connection = { url, authorityHost, baseDomain };
  assign(connection, 'tenantId', pick('tenantId'));
  assign(connection, 'clientId', pick('clientId'));
  assign(connection, 'clientSecret', pick('clientSecret'));
  assign(connection, 'username', pick('username'));
  assign(connection, 'caFile', pick('caFile'));
  assign(connection, 'devFile', dev?.path);
  // A cached token belongs to the profile's user; another user or secret given explicitly wins.
  if (
    dev?.token !== undefined &&
    connection.username === dev.values.username &&
    connection.clientSecret === undefined
  )
    connection.cachedToken = dev.token;
  return connection;
}

/**
 * The dev.json to read: the one named by --dev-data-dir, else `./.coffer-dev/dev.json` but only
 * when nothing else says where to connect, so a dev secret is never sent to a server named by
 * --url or COFFER_URL.
 */
function devFileFor(
  flags: ConnectionFlags,
  env: Env,
  cwd: string,
  ignoreProfile: boolean,
): DevFile | undefined {
  const explicitDir = nonEmpty(flags.devDataDir);
  if (explicitDir !== undefined) return readDevFile(resolve(cwd, explicitDir));
  const profile = ignoreProfile ? undefined : profileSource(flags, env);
  if (profile !== undefined) return profile;
  const anythingGiven = (Object.keys(ENV_NAMES) as ConnectionField[]).some(
    (field) => nonEmpty(flags[field]) !== undefined || nonEmpty(env[ENV_NAMES[field]]) !== undefined,
  );
  if (anythingGiven) return undefined;
  const defaultDir = resolve(cwd, DEFAULT_DEV_DATA_DIR);
  return existsSync(join(defaultDir, 'dev.json')) ? readDevFile(defaultDir) : undefined;
}

/**
 * The saved profile, unless a server other than the profile's is named: its secret or token is
 * only ever sent to the server it was saved for.
 */
function profileSource(flags: ConnectionFlags, env: Env): DevFile | undefined {
  const profile = readProfile(env);
  if (profile === undefined) return undefined;
  const urlGiven = nonEmpty(flags.url) ?? nonEmpty(env[ENV_NAMES.url]);
  if (urlGiven !== undefined && normaliseUrl(urlGiven) !== normaliseUrl(profile.url)) return undefined;
  const { token, path, ...fields } = profile;
  const values: DevFile['values'] = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string' && value !== '') values[key as keyof DevFile['values']] = value;
  }
  return token === undefined ? { path, values } : { path, values, token };
}

function readDevFile(dir: string): DevFile {
  const path = join(dir, 'dev.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(
      `cannot read ${path} (${reason}). Start a dev server with \`coffer server --dev --data-dir ${dir}\` first.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON. Restart the dev server to rewrite it.`);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new CliError(`${path} does not hold a JSON object. Restart the dev server to rewrite it.`);
  }
  const record = parsed as Record<string, unknown>;
  const values: DevFile['values'] = {};
  for (const key of ['url', 'tenantId', 'clientId', 'clientSecret', 'baseDomain', 'authorityHost'] as const) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') values[key] = value;
  }
  // The contract says caFile is absolute; a relative one is taken relative to its own folder.
  if (typeof record['caFile'] === 'string' && record['caFile'] !== '') {
    values.caFile = resolve(dir, record['caFile']);
  }
  return { path, values };
}

function normaliseUrl(text: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new CliError(`'${text}' is not a URL. Pass the server as --url https://HOST:PORT.`);
  }
  if (parsed.protocol !== 'https:') {
    throw new CliError(
      `'${text}' is not an https URL. Coffer serves HTTPS only: use --url https://HOST:PORT.`,
    );
  }
  return parsed.origin + parsed.pathname.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function assign<K extends keyof Connection>(
  target: Connection,
  key: K,
  value: Connection[K] | undefined,
): void {
  if (value !== undefined) target[key] = value;
}
