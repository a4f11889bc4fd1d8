import { CofferError } from '../errors/index.js';
import { OAuthError } from '../identity/oauth-error.js';
import type { Clock } from '../lib/clock.js';
import { createFailureThrottle, type FailureThrottle, type ReservedAttempt } from './throttle.js';

/**
 * Limits for failed token requests and refused authorizations, per client, user name or
 * principal and per address, over one minute. Each number is exact: that many failures are
 * answered, the next attempt is refused with 429. A client is throttled long before it could
 * guess a secret; an address gets more room because many clients may share one (a NAT, a CI runner).
 */
export const ABUSE_LIMITS = {
  windowMs: 60_000,
  tokenFailuresPerClient: 10,
  tokenFailuresPerAddress: 100,
  deniedPerPrincipal: 100,
  deniedPerAddress: 2000,
} as const;

const COUNTED_OAUTH_ERRORS = new Set(['invalid_client', 'invalid_grant', 'unauthorized_client']);

/** What a token request claims to be, for counting its failures. */
export interface TokenRequestSubject {
  grantType: string | undefined;
  clientId: string | undefined;
  username: string | undefined;
}

/**
 * Whose budget a token request spends: a password guess spends the user's, whatever `client_id`
 * it names (a fresh random client id per guess must not buy a fresh budget); a client
 * credential spends the client's. A bad authorization code spends its sender's address's client
 * budget: the console is one public client every user shares, so counting per client would let
 * anyone lock every user out of it with ten bad codes a minute.
 */
function tokenSubjectKey(subject: TokenRequestSubject, address: string): string {
  if (subject.grantType === 'password') return `user:${(subject.username ?? '').toLowerCase()}`;
  if (subject.grantType === 'authorization_code') return `code:${address}`;
  return `client:${(subject.clientId ?? '').toLowerCase()}`;
}

/**
 * Throttles bursts of failures with 429 and Retry-After: a throttled caller is refused before
 * its credentials are even checked, and attempts reserve their place before they are evaluated
 * (throttle.ts). Requests answered 429 are not counted, so a caller that waits out Retry-After
 * gets back in.
 */
export function createAbuseGuard(
  clock: Clock,
  /** Makes a counter count the failures other members see too (core/cluster-wiring.ts). */
  share: (name: string, throttle: FailureThrottle) => FailureThrottle = (_name, throttle) => throttle,
) {
  const throttle = (name: string, maxFailures: number) =>
    share(name, createFailureThrottle({ maxFailures, windowMs: ABUSE_LIMITS.windowMs, clock }));
  const tokenSubjects = throttle('token-subject', ABUSE_LIMITS.tokenFailuresPerClient);
  const tokenAddresses = throttle('token-address', ABUSE_LIMITS.tokenFailuresPerAddress);
  const deniedPrincipals = throttle('denied-principal', ABUSE_LIMITS.deniedPerPrincipal);
  const deniedAddresses = throttle('denied-address', ABUSE_LIMITS.deniedPerAddress);

  async function guard<T>(
    counters: Array<[FailureThrottle, string]>,
    isCountedFailure: (error: unknown) => boolean,
    attempt: () => Promise<T>,
  ): Promise<T> {
    // Always in the same order (subject, then address): no two requests can each hold a slot the
    // other waits for.
    const reserved: ReservedAttempt[] = [];
    try {
      for (const [counter, key] of counters) reserved.push(await counter.reserve(key));
    } catch (error) {
      for (const slot of reserved) slot.settle(false);
      throw error;
    }
    let failed = false;
    try {
      return await attempt();
    } catch (error) {
      failed = isCountedFailure(error);
      throw error;
    } finally {
      for (const slot of reserved) slot.settle(failed);
    }
  }

  return {
    /** Around the token endpoint: counts bad credentials per client or user name, and per address. */
    tokenRequest: <T>(subject: TokenRequestSubject, address: string, attempt: () => Promise<T>) =>
      guard(
        [
          [tokenSubjects, tokenSubjectKey(subject, address)],
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
