import { CofferError, Throttled } from '../errors/index.js';
import { OAuthError } from '../identity/oauth-error.js';
import type { Clock } from '../lib/clock.js';
import { createFailureThrottle, type FailureThrottle } from './throttle.js';

/**
 * Limits for failed token requests and refused authorizations, per client or principal and per
 * address, over one minute. A client is throttled long before it could guess a secret; an
 * address gets more room because many clients may share one (a NAT, a CI runner).
 */
export const ABUSE_LIMITS = {
  windowMs: 60_000,
  tokenFailuresPerClient: 10,
  tokenFailuresPerAddress: 100,
  deniedPerPrincipal: 100,
  deniedPerAddress: 2000,
} as const;

const COUNTED_OAUTH_ERRORS = new Set(['invalid_client', 'invalid_grant', 'unauthorized_client']);

/**
 * Throttles bursts of failures with 429 and Retry-After: a throttled caller is refused before
 * its credentials are even checked. Requests already answered 429 are not counted, so a caller
 * that waits out Retry-After gets back in.
 */
export function createAbuseGuard(
  clock: Clock,
  /** Makes a counter count the failures other nodes see too (core/shared-throttles.ts). */
  share: (name: string, throttle: FailureThrottle) => FailureThrottle = (_name, throttle) => throttle,
) {
  const throttle = (name: string, maxFailures: number) =>
    share(name, createFailureThrottle({ maxFailures, windowMs: ABUSE_LIMITS.windowMs, clock }));
  const tokenClients = throttle('token-client', ABUSE_LIMITS.tokenFailuresPerClient);
  const tokenAddresses = throttle('token-address', ABUSE_LIMITS.tokenFailuresPerAddress);
  const deniedPrincipals = throttle('denied-principal', ABUSE_LIMITS.deniedPerPrincipal);
  const deniedAddresses = throttle('denied-address', ABUSE_LIMITS.deniedPerAddress);

  async function guard<T>(
    counters: Array<[ReturnType<typeof throttle>, string]>,
    isCountedFailure: (error: unknown) => boolean,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (const [counter, key] of counters) {
      const retryAfter = counter.isThrottled(key);
      if (retryAfter !== undefined) throw new Throttled(retryAfter);
    }
    try {
      return await attempt();
    } catch (error) {
      if (isCountedFailure(error)) for (const [counter, key] of counters) counter.recordFailure(key);
      throw error;
    }
  }

  return {
    /** Around the token endpoint: counts bad credentials per client id (or user name) and address. */
    tokenRequest: <T>(client: string | undefined, address: string, attempt: () => Promise<T>) =>
      guard(
        [
          [tokenClients, `client:${(client ?? '').toLowerCase()}`],
          [tokenAddresses, `address:${address}`],
        ],
        (error) => error instanceof OAuthError && COUNTED_OAUTH_ERRORS.has(error.error),
        attempt,
      ),

    /** Around authorize(): counts refusals per principal and address. */
    authorization: <T>(principalId: string, address: string, attempt: () => Promise<T>) =>
      guard(
        [
          [deniedPrincipals, `principal:${principalId}`],
          [deniedAddresses, `address:${address}`],
        ],
        (error) => error instanceof CofferError && error.status === 403,
        attempt,
      ),
  };
}

export type AbuseGuard = ReturnType<typeof createAbuseGuard>;
