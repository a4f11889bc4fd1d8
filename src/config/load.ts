import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { postgresSettings, sealSettings } from './nested.js';
import type { CofferConfig } from './types.js';

export interface ServerOptions {
  dev: boolean;
  dataDir?: string;
  port?: number;
  host?: string;
  configFile?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;

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
  cryptoWorkers: 'COFFER_CRYPTO_WORKERS',
  trustedProxies: 'COFFER_TRUSTED_PROXIES',
  logLevel: 'COFFER_LOG_LEVEL',
};

/** Sections of the config file that are objects (config/nested.ts), with their own variables. */
const NESTED = ['storage', 'seal'];

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
  return {
    dev: options.dev,
    dataDir,
    host: options.host ?? setting('host') ?? '127.0.0.1',
    port,
    baseDomain: (setting('baseDomain') ?? 'vault.localhost').toLowerCase(),
    publicHost: (setting('publicHost') ?? 'localhost').toLowerCase(),
    defaultVault: setting('defaultVault') ?? (options.dev ? 'dev' : undefined),
    tls: { certFile: setting('tlsCertFile'), keyFile: setting('tlsKeyFile') },
    storage: postgresSettings(file['storage'], env, cacheMiB) ?? {
      type: 'sqlite',
      file: path.join(dataDir, 'coffer.db'),
      cacheMiB,
    },
    seal: sealSettings(file['seal'], env),
    purgeIntervalSeconds: parseInteger(
      'purgeIntervalSeconds',
      setting('purgeIntervalSeconds') ?? '3600',
      1,
      86400,
    ),
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
    logLevel: logLevel as CofferConfig['logLevel'],
  };
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
    const known = [...Object.keys(ENVIRONMENT), ...NESTED];
    const unknown = Object.keys(parsed).filter((key) => !known.includes(key));
    if (unknown.length > 0) {
      throw new Error(`unknown setting(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
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
