import path from 'node:path';

/** Event delivery to webhooks (docs/events.md, README "Events"). */
export interface EventsConfig {
  /** Tries per event (the first delivery included) before it goes to the dead-letter list. */
  maxAttempts: number;
  /** Delay before the first retry; it doubles per try up to `retryMaxSeconds`, with ±20% jitter. */
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  /** Deadline of one outbound request (connect, TLS, send and answer), as Event Grid's 30 s. */
  deliveryTimeoutSeconds: number;
  /** Extra CA certificates (PEM) trusted for webhook endpoints, beside the system's. */
  caFile: string | undefined;
  /**
   * Endpoints resolving to loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata)
   * or other non-public addresses are refused unless this is true (dev mode: true).
   */
  allowPrivateEndpoints: boolean;
  /** Host names always allowed whatever they resolve to (a private webhook named on purpose). */
  allowedHosts: string[];
  /** How long before `exp` the NearExpiry events are sent (Azure: 30 days). */
  nearExpiryDays: number;
  /** Webhook deliveries in flight at once across every subscription. */
  maxConcurrentDeliveries: number;
}

export const EVENTS_ENVIRONMENT = {
  maxAttempts: 'COFFER_EVENTS_MAX_ATTEMPTS',
  retryInitialSeconds: 'COFFER_EVENTS_RETRY_INITIAL_SECONDS',
  retryMaxSeconds: 'COFFER_EVENTS_RETRY_MAX_SECONDS',
  deliveryTimeoutSeconds: 'COFFER_EVENTS_DELIVERY_TIMEOUT_SECONDS',
  caFile: 'COFFER_EVENTS_CA_FILE',
  allowPrivateEndpoints: 'COFFER_EVENTS_ALLOW_PRIVATE_ENDPOINTS',
  allowedHosts: 'COFFER_EVENTS_ALLOWED_HOSTS',
  nearExpiryDays: 'COFFER_EVENTS_NEAR_EXPIRY_DAYS',
  maxConcurrentDeliveries: 'COFFER_EVENTS_MAX_CONCURRENT_DELIVERIES',
} as const;

type Raw = Record<string, unknown>;

/**
 * The `events` object of the config file with COFFER_EVENTS_* variables over it. Defaults follow
 * Event Grid's: 30 tries, 30 s per request; retries from 10 s doubling to an hour.
 */
export function loadEventsConfig(fromFile: unknown, env: NodeJS.ProcessEnv, dev: boolean): EventsConfig {
  if (
    fromFile !== undefined &&
    (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
  )
    throw new Error('events must be an object (see the README, "Events")');
  const file = (fromFile ?? {}) as Raw;
  const known = Object.keys(EVENTS_ENVIRONMENT);
  const unknown = Object.keys(file).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new Error(`unknown events setting(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const setting = (key: keyof typeof EVENTS_ENVIRONMENT): unknown => {
    const fromEnv = env[EVENTS_ENVIRONMENT[key]];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[key];
  };
  const retryInitialSeconds = number(
    'events.retryInitialSeconds',
    setting('retryInitialSeconds'),
    10,
    0.05,
    3600,
  );
  const retryMaxSeconds = number('events.retryMaxSeconds', setting('retryMaxSeconds'), 3600, 0.05, 86400);
  if (retryMaxSeconds < retryInitialSeconds)
    throw new Error('events.retryMaxSeconds cannot be less than events.retryInitialSeconds.');
  const caFile = setting('caFile');
  if (caFile !== undefined && (typeof caFile !== 'string' || caFile === ''))
    throw new Error('events.caFile must be the path of a PEM file.');
  return {
    maxAttempts: number('events.maxAttempts', setting('maxAttempts'), 30, 1, 100, true),
    retryInitialSeconds,
    retryMaxSeconds,
    deliveryTimeoutSeconds: number(
      'events.deliveryTimeoutSeconds',
      setting('deliveryTimeoutSeconds'),
      30,
      0.1,
      300,
    ),
    caFile: caFile === undefined ? undefined : path.resolve(caFile as string),
    allowPrivateEndpoints: flag('events.allowPrivateEndpoints', setting('allowPrivateEndpoints'), dev),
    allowedHosts: hostList(setting('allowedHosts')),
    nearExpiryDays: number('events.nearExpiryDays', setting('nearExpiryDays'), 30, 1, 365, true),
    maxConcurrentDeliveries: number(
      'events.maxConcurrentDeliveries',
      setting('maxConcurrentDeliveries'),
      16,
      1,
      1024,
      true,
    ),
  };
}

function number(name: string, value: unknown, fallback: number, min: number, max: number, whole = false) {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (whole && !Number.isInteger(parsed)))
    throw new Error(
      `${name} must be a ${whole ? 'whole ' : ''}number from ${min} to ${max}; got '${String(value)}'.`,
    );
  return parsed;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`${name} must be true or false; got '${String(value)}'.`);
}

/** A JSON array in the file, or a comma-separated list in the environment. */
function hostList(value: unknown): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || items.some((item) => typeof item !== 'string'))
    throw new Error('events.allowedHosts must be a list of host names.');
  return (items as string[]).map((host) => host.trim().toLowerCase()).filter(Boolean);
}
