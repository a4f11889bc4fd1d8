import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { flag, integer } from './audit.js';

/** `GET /metrics` (docs/metrics.md): on or off, and the scrape token's SHA-256 when there is one. */
export interface MetricsConfig {
  enabled: boolean;
  /**
   * SHA-256 of the scrape token, 32 bytes. Only the digest is held: the token itself is read
   * once (file or environment) and dropped. Undefined: only principals with Coffer/metrics/read.
   */
  scrapeTokenSha256: Buffer | undefined;
}

/** The alert rules over the audit stream (docs/metrics.md, "Alerts"). */
export interface AlertsConfig {
  enabled: boolean;
  /** Refused requests (401 with a token, 403) per caller within the window that raise an alert; 0: off. */
  refusedThreshold: number;
  refusedWindowSeconds: number;
  /** Distinct secrets one caller reads within the window that raise an alert; 0: off. */
  distinctSecretsThreshold: number;
  distinctSecretsWindowSeconds: number;
  /** A principal seen from an address it did not use before (since the server started). */
  newAddress: boolean;
  /** Purges and vault deletions, allowed or refused. */
  destructive: boolean;
  /** Permission model, access policy, network rule and role assignment changes. */
  accessChanges: boolean;
}

export const METRICS_ENVIRONMENT = {
  enabled: 'COFFER_METRICS_ENABLED',
  scrapeTokenSha256: 'COFFER_METRICS_SCRAPE_TOKEN_SHA256',
  scrapeTokenFile: 'COFFER_METRICS_SCRAPE_TOKEN_FILE',
} as const;
/** The token itself, for containers that hand secrets in the environment; never a config-file key. */
export const SCRAPE_TOKEN_VARIABLE = 'COFFER_METRICS_SCRAPE_TOKEN';

export const ALERTS_ENVIRONMENT = {
  enabled: 'COFFER_ALERTS_ENABLED',
  refusedThreshold: 'COFFER_ALERTS_REFUSED_THRESHOLD',
  refusedWindowSeconds: 'COFFER_ALERTS_REFUSED_WINDOW_SECONDS',
  distinctSecretsThreshold: 'COFFER_ALERTS_DISTINCT_SECRETS_THRESHOLD',
  distinctSecretsWindowSeconds: 'COFFER_ALERTS_DISTINCT_SECRETS_WINDOW_SECONDS',
  newAddress: 'COFFER_ALERTS_NEW_ADDRESS',
  destructive: 'COFFER_ALERTS_DESTRUCTIVE',
  accessChanges: 'COFFER_ALERTS_ACCESS_CHANGES',
} as const;

/** A scrape token shorter than this is refused at start: it would be guessable. */
const MIN_TOKEN_LENGTH = 32;

export function loadMetricsConfig(fromFile: unknown, env: NodeJS.ProcessEnv): MetricsConfig {
  const setting = section('metrics', fromFile, METRICS_ENVIRONMENT, env);
  const digest = setting('scrapeTokenSha256');
  const file = setting('scrapeTokenFile');
  const inEnv = env[SCRAPE_TOKEN_VARIABLE];
  const given = [digest, file, inEnv].filter((value) => value !== undefined && value !== '');
  if (given.length > 1)
    throw new Error(
      `give the metrics scrape token one way only: metrics.scrapeTokenSha256, metrics.scrapeTokenFile or ${SCRAPE_TOKEN_VARIABLE}.`,
    );
  let scrapeTokenSha256: Buffer | undefined;
  if (digest !== undefined) {
    if (typeof digest !== 'string' || !/^[0-9a-fA-F]{64}$/.test(digest))
      throw new Error(
        'metrics.scrapeTokenSha256 must be 64 hex digits: the SHA-256 of the token (printf %s TOKEN | sha256sum).',
      );
    scrapeTokenSha256 = Buffer.from(digest, 'hex');
  } else if (file !== undefined) {
    scrapeTokenSha256 = tokenDigest('metrics.scrapeTokenFile', readToken(file));
  } else if (inEnv !== undefined && inEnv !== '') {
    scrapeTokenSha256 = tokenDigest(SCRAPE_TOKEN_VARIABLE, inEnv);
  }
  return { enabled: flag('metrics.enabled', setting('enabled'), true), scrapeTokenSha256 };
}

export function loadAlertsConfig(fromFile: unknown, env: NodeJS.ProcessEnv): AlertsConfig {
  const setting = section('alerts', fromFile, ALERTS_ENVIRONMENT, env);
  const count = (key: keyof typeof ALERTS_ENVIRONMENT, fallback: number) =>
    integer(`alerts.${key}`, setting(key), fallback, 0, 1_000_000);
  const seconds = (key: keyof typeof ALERTS_ENVIRONMENT, fallback: number) =>
    integer(`alerts.${key}`, setting(key), fallback, 1, 86_400);
  return {
    enabled: flag('alerts.enabled', setting('enabled'), true),
    refusedThreshold: count('refusedThreshold', 20),
    refusedWindowSeconds: seconds('refusedWindowSeconds', 60),
    distinctSecretsThreshold: count('distinctSecretsThreshold', 50),
    distinctSecretsWindowSeconds: seconds('distinctSecretsWindowSeconds', 300),
    newAddress: flag('alerts.newAddress', setting('newAddress'), true),
    destructive: flag('alerts.destructive', setting('destructive'), true),
    accessChanges: flag('alerts.accessChanges', setting('accessChanges'), true),
  };
}

/** A config-file section checked for unknown keys, each key overridden by its environment variable. */
function section<Keys extends Record<string, string>>(
  name: string,
  fromFile: unknown,
  variables: Keys,
  env: NodeJS.ProcessEnv,
): (key: keyof Keys) => unknown {
  if (
    fromFile !== undefined &&
    (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
  )
    throw new Error(`${name} must be an object (see the README, "Metrics and alerts")`);
  const file = (fromFile ?? {}) as Record<string, unknown>;
  const known = Object.keys(variables);
  const unknown = Object.keys(file).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new Error(`unknown ${name} setting(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return (key) => {
    const fromEnv = env[variables[key]!];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[key as string];
  };
}

function readToken(file: unknown): string {
  if (typeof file !== 'string' || file === '')
    throw new Error('metrics.scrapeTokenFile must be a file path.');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new Error(
      `cannot read metrics.scrapeTokenFile ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: error },
    );
  }
}

function tokenDigest(where: string, token: string): Buffer {
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
    throw new Error(
      `${where}: the scrape token must be at least ${MIN_TOKEN_LENGTH} characters without spaces (openssl rand -base64 32).`,
    );
  return createHash('sha256').update(token, 'utf8').digest();
}
