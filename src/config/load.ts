import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { validateResourceGroupName } from '../arm/resource-ids.js';
import { isUuid } from '../lib/ids.js';
import { loadAuditConfig } from './audit.js';
import { postgresSettings, sealSettings } from './nested.js';
import { loadEventsConfig } from './events.js';
import { loadAlertsConfig, loadMetricsConfig } from './metrics.js';
import { readPkcs11, readSeal } from './pkcs11.js';
import type { CofferConfig, ConnectionLimits, SealSettings } from './types.js';

export interface ServerOptions {
  dev: boolean;
  dataDir?: string;
  port?: number;
  host?: string;
  configFile?: string;
  /** `--workers N`: server processes sharing the listener (node:cluster). */
  workers?: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;
/** Settings that are objects in the config file, each with its own environment variables (config/pkcs11.ts). */
// Nested sections, read by their own loaders.
/** Sections of the config file that are objects, read by their own modules. */
const SECTIONS = ['pkcs11', 'seal', 'audit', 'storage', 'events', 'metrics', 'alerts'];

/** Keys a config file may hold, with the environment variable that overrides each. */
const ENVIRONMENT: Record<string, string> = {
  dataDir: 'COFFER_DATA_DIR',
  host: 'COFFER_HOST',
  port: 'COFFER_PORT',
  baseDomain: 'COFFER_BASE_DOMAIN',
  publicHost: 'COFFER_PUBLIC_HOST',
  defaultVault: 'COFFER_DEFAULT_VAULT',
  tlsCertFile: 'COFFER_TLS_CERT_FILE',
  tlsKeyFile: 'COFFER_TLS_KEY_FILE',
  purgeIntervalSeconds: 'COFFER_PURGE_INTERVAL_SECONDS',
  storageCacheMiB: 'COFFER_STORAGE_CACHE_MIB',
  commitRecordFile: 'COFFER_COMMIT_RECORD_FILE',
  cryptoWorkers: 'COFFER_CRYPTO_WORKERS',
  workers: 'COFFER_WORKERS',
  trustedProxies: 'COFFER_TRUSTED_PROXIES',
  logLevel: 'COFFER_LOG_LEVEL',
  region: 'COFFER_REGION',
  requestHeadersTimeoutSeconds: 'COFFER_REQUEST_HEADERS_TIMEOUT_SECONDS',
  requestTimeoutSeconds: 'COFFER_REQUEST_TIMEOUT_SECONDS',
  keepAliveTimeoutSeconds: 'COFFER_KEEP_ALIVE_TIMEOUT_SECONDS',
  maxConnections: 'COFFER_MAX_CONNECTIONS',
  shutdownTimeoutSeconds: 'COFFER_SHUTDOWN_TIMEOUT_SECONDS',
  subscriptionId: 'COFFER_SUBSCRIPTION_ID',
  defaultResourceGroup: 'COFFER_DEFAULT_RESOURCE_GROUP',
  backupDir: 'COFFER_BACKUP_DIR',
};

/** Lower-case letters, digits and hyphens, as Azure's region names (`westeurope`). */
const REGION = /^[a-z0-9-]{1,64}$/;

/**
 * Precedence, lowest first: built-in defaults, the config file (`--config` or COFFER_CONFIG),
 * environment variables, command-line flags. Errors name the setting and what it accepts.
 */
export function loadConfig(options: ServerOptions, env: NodeJS.ProcessEnv = process.env): CofferConfig {
  const configFile = options.configFile ?? env.COFFER_CONFIG;
  const file = configFile ? readConfigFile(configFile) : {};
  const setting = (key: string): string | undefined => {
    const fromEnv = env[ENVIRONMENT[key]!];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const fromFile = file[key];
    return fromFile === undefined || fromFile === null ? undefined : String(fromFile);
  };

  const dataDir = path.resolve(
    options.dataDir ?? setting('dataDir') ?? (options.dev ? '.coffer-dev' : '/var/lib/coffer'),
  );
  const port = options.port ?? parseInteger('port', setting('port') ?? '8443', 0, 65535);
  const logLevel = setting('logLevel') ?? 'info';
  const cacheMiB = parseInteger('storageCacheMiB', setting('storageCacheMiB') ?? '32', 0, 4096);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new Error(`logLevel must be one of ${LOG_LEVELS.join(', ')}; got '${logLevel}'.`);
  }
  const pkcs11 = readPkcs11(file.pkcs11, env);
  const seal = readSealSettings(file.seal, env, pkcs11);
  if (options.dev && seal.type !== 'shamir') {
    throw new Error(
      `a --dev server unseals itself from a key file in its data dir; seal.type ${seal.type} (COFFER_SEAL_TYPE) is for production servers.`,
    );
  }
  const region = setting('region') ?? 'local';
  if (!REGION.test(region)) {
    throw new Error(
      `region must be 1 to 64 lower-case letters, digits or hyphens; got '${region.slice(0, 70)}'.`,
    );
  }
  const subscriptionId = setting('subscriptionId')?.toLowerCase();
  if (subscriptionId !== undefined && !isUuid(subscriptionId)) {
    throw new Error(`subscriptionId must be a UUID, as Azure's are; got '${subscriptionId.slice(0, 40)}'.`);
  }
  const defaultResourceGroup = setting('defaultResourceGroup') ?? 'coffer';
  try {
    validateResourceGroupName(defaultResourceGroup);
  } catch (error) {
    throw new Error(`defaultResourceGroup: ${(error as Error).message}`, { cause: error });
  }
  const postgres = postgresSettings(file['storage'], env, cacheMiB);
  // One process by default on SQLite and in dev mode (issue 16: "default 1 for SQLite"): several
  // would each keep their own audit log and console sessions (docs/ha.md). PostgreSQL nodes in
  // production use every core.
  const defaultWorkers = options.dev || !postgres ? 1 : availableParallelism();
  return {
    dev: options.dev,
    dataDir,
    host: options.host ?? setting('host') ?? '127.0.0.1',
    port,
    baseDomain: (setting('baseDomain') ?? 'vault.localhost').toLowerCase(),
    publicHost: (setting('publicHost') ?? 'localhost').toLowerCase(),
    defaultVault: setting('defaultVault') ?? (options.dev ? 'dev' : undefined),
    tls: { certFile: setting('tlsCertFile'), keyFile: setting('tlsKeyFile') },
    storage: postgres ?? { type: 'sqlite', file: path.join(dataDir, 'coffer.db'), cacheMiB },
    commitRecordFile: path.resolve(setting('commitRecordFile') ?? path.join(dataDir, 'commit-record.json')),
    purgeIntervalSeconds: parseInteger(
      'purgeIntervalSeconds',
      setting('purgeIntervalSeconds') ?? '3600',
      1,
      86400,
    ),
    workers: options.workers ?? parseInteger('workers', setting('workers') ?? String(defaultWorkers), 1, 256),
    cryptoWorkers: parseInteger(
      'cryptoWorkers',
      setting('cryptoWorkers') ?? String(availableParallelism()),
      1,
      256,
    ),
    trustedProxies: (setting('trustedProxies') ?? '')
      .split(',')
      .map((address) => address.trim())
      .filter(Boolean),
    connections: connectionLimits(setting),
    logLevel: logLevel as CofferConfig['logLevel'],
    pkcs11,
    seal,
    region,
    subscriptionId,
    defaultResourceGroup,
    backupDir: backupDirOf(setting('backupDir'), dataDir, options.dev),
    audit: loadAuditConfig(file['audit'], env, dataDir),
    events: loadEventsConfig(file['events'], env, options.dev),
    metrics: loadMetricsConfig(file['metrics'], env),
    alerts: loadAlertsConfig(file['alerts'], env),
  };
}

/** An absolute directory; in dev mode one inside the data dir unless given. */
function backupDirOf(given: string | undefined, dataDir: string, dev: boolean): string | undefined {
  if (given !== undefined && given !== '') return path.resolve(given);
  return dev ? path.join(dataDir, 'backups') : undefined;
}
/** The defaults are CONTRACT section 2's (HashiCorp Vault's): 10 s for headers, 30 s per request, 5 minutes idle. */
function connectionLimits(setting: (key: string) => string | undefined): ConnectionLimits {
  const seconds = (key: string, fallback: number, max: number) =>
    parseInteger(key, setting(key) ?? String(fallback), 1, max) * 1000;
  const limits: ConnectionLimits = {
    headersTimeoutMs: seconds('requestHeadersTimeoutSeconds', 10, 3600),
    requestTimeoutMs: seconds('requestTimeoutSeconds', 30, 3600),
    keepAliveTimeoutMs: seconds('keepAliveTimeoutSeconds', 300, 86400),
    maxConnections: parseInteger('maxConnections', setting('maxConnections') ?? '4096', 1, 1_000_000),
    shutdownTimeoutMs: seconds('shutdownTimeoutSeconds', 10, 3600),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(
      'requestHeadersTimeoutSeconds cannot exceed requestTimeoutSeconds: the headers are part of the request.',
    );
  }
  return limits;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: error },
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    const unknown = Object.keys(parsed).filter((key) => !(key in ENVIRONMENT) && !SECTIONS.includes(key));
    if (unknown.length > 0) {
      throw new Error(
        `unknown setting(s) ${unknown.join(', ')}; known: ${[...Object.keys(ENVIRONMENT), ...SECTIONS].join(', ')}`,
      );
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new Error(`the config file ${file} is not valid: ${(error as Error).message}`, { cause: error });
  }
}

function parseInteger(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}; got '${text}'.`);
  }
  return value;
}

/**
 * `seal`: Shamir shares (default), a key in another key vault (nested.ts) or a PKCS#11 token key
 * (pkcs11.ts). The two auto-unseal kinds read different settings, so each has its own reader.
 */
function readSealSettings(
  fileValue: unknown,
  env: NodeJS.ProcessEnv,
  pkcs11: Parameters<typeof readSeal>[2],
): SealSettings {
  const fromFile = (fileValue as { type?: unknown } | undefined)?.type;
  const type = env.COFFER_SEAL_TYPE || fromFile;
  return type === 'keyvault' ? sealSettings(fileValue, env) : readSeal(fileValue, env, pkcs11);
}
