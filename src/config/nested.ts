import type { KeyVaultSealSettings, PostgresStorageConfig, SealSettings } from './types.js';

/**
 * The config file's two nested sections, `storage` and `seal`, with the environment variables
 * that override parts of them. Errors name the setting and what it accepts; none ever repeats
 * a value (a URL may hold a password, credentials hold a client secret).
 */

const KEY_VAULT_ALGORITHMS = ['RSA-OAEP-256', 'RSA-OAEP', 'A256KW'] as const;

export function postgresSettings(
  section: unknown,
  env: NodeJS.ProcessEnv,
  cacheMiB: number,
): PostgresStorageConfig | undefined {
  const storage = objectAt('storage', section ?? {});
  const postgres = objectAt('storage.postgres', storage['postgres'] ?? {});
  rejectUnknown('storage', storage, ['postgres']);
  rejectUnknown('storage.postgres', postgres, [
    'url',
    'readReplicaUrl',
    'maxConnections',
    'statementTimeoutMs',
  ]);
  const url = nonEmpty(env.COFFER_STORAGE_URL) ?? stringAt('storage.postgres.url', postgres['url']);
  if (url === undefined) return undefined;
  const replica =
    nonEmpty(env.COFFER_STORAGE_READ_REPLICA_URL) ??
    stringAt('storage.postgres.readReplicaUrl', postgres['readReplicaUrl']);
  return {
    type: 'postgres',
    url: postgresUrl('storage.postgres.url (COFFER_STORAGE_URL)', url),
    readReplicaUrl: replica && postgresUrl('storage.postgres.readReplicaUrl', replica),
    maxConnections: integerAt('storage.postgres.maxConnections', postgres['maxConnections'], 10, 1, 1000),
    statementTimeoutMs: integerAt(
      'storage.postgres.statementTimeoutMs',
      postgres['statementTimeoutMs'],
      5000,
      100,
      600_000,
    ),
    cacheMiB,
  };
}

export function sealSettings(section: unknown, env: NodeJS.ProcessEnv): SealSettings {
  if (section === undefined || section === null) return { type: 'shamir' };
  const seal = objectAt('seal', section);
  if (seal['type'] === 'shamir') {
    rejectUnknown('seal', seal, ['type']);
    return { type: 'shamir' };
  }
  if (seal['type'] !== 'keyvault') throw new Error('seal.type must be shamir, keyvault or pkcs11.');
  rejectUnknown('seal', seal, ['type', 'vaultUrl', 'keyName', 'keyVersion', 'algorithm', 'credentials']);
  const credentials = objectAt('seal.credentials', seal['credentials'] ?? {});
  rejectUnknown('seal.credentials', credentials, [
    'tenantId',
    'clientId',
    'clientSecret',
    'authorityHost',
    'caFile',
  ]);
  const algorithm = stringAt('seal.algorithm', seal['algorithm']) ?? 'RSA-OAEP-256';
  if (!(KEY_VAULT_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new Error(`seal.algorithm must be one of ${KEY_VAULT_ALGORITHMS.join(', ')}.`);
  }
  const required = (name: string, value: unknown) => {
    const text = stringAt(name, value);
    if (!text) throw new Error(`${name} is required for the keyvault seal.`);
    return text;
  };
  return {
    type: 'keyvault',
    vaultUrl: httpsUrl('seal.vaultUrl', required('seal.vaultUrl', seal['vaultUrl'])),
    keyName: required('seal.keyName', seal['keyName']),
    keyVersion: stringAt('seal.keyVersion', seal['keyVersion']),
    algorithm: algorithm as KeyVaultSealSettings['algorithm'],
    credentials: {
      tenantId: required('seal.credentials.tenantId', credentials['tenantId']),
      clientId: required('seal.credentials.clientId', credentials['clientId']),
      // The secret may stay out of the file: the environment wins.
      clientSecret:
        nonEmpty(env.COFFER_SEAL_CLIENT_SECRET) ??
        required('seal.credentials.clientSecret (or COFFER_SEAL_CLIENT_SECRET)', credentials['clientSecret']),
      authorityHost: stringAt('seal.credentials.authorityHost', credentials['authorityHost']),
      caFile: stringAt('seal.credentials.caFile', credentials['caFile']),
    },
  };
}

function objectAt(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${name} must be an object.`);
  }
  return value as Record<string, unknown>;
}

function rejectUnknown(name: string, section: Record<string, unknown>, known: string[]): void {
  const unknown = Object.keys(section).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new Error(
      `unknown setting(s) ${unknown.map((key) => `${name}.${key}`).join(', ')}; known: ${known.join(', ')}`,
    );
}

function stringAt(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${name} must be a string.`);
  return value;
}

function integerAt(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function postgresUrl(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`${name} is not a URL: write postgres://USER:PASSWORD@HOST:PORT/DATABASE.`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`${name} must start with postgres:// (got ${parsed.protocol}//).`);
  }
  if (parsed.pathname.length <= 1)
    throw new Error(`${name} must name the database: postgres://HOST/DATABASE.`);
  return value;
}

function httpsUrl(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`${name} is not a URL.`);
  }
  if (parsed.protocol !== 'https:') throw new Error(`${name} must be an https:// URL.`);
  return value.replace(/\/+$/, '');
}
