import { OAuthError } from './oauth-error.js';

const DEFAULT_LIMIT = 100_000;

/**
 * Remembers the `jti` of every accepted client assertion until it expires, so the same signed
 * assertion cannot be exchanged twice. Per node: with several nodes an assertion could be
 * replayed once per node, within its lifetime (at most an hour, 10 minutes as MSAL makes them).
 */
export function createReplayGuard(options: { limit?: number } = {}) {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const seen = new Map<string, number>();

  function sweep(nowMs: number): void {
    for (const [key, expiresAtMs] of seen) if (expiresAtMs <= nowMs) seen.delete(key);
  }

  return {
    /** Records the assertion; throws invalid_client if it was seen before and has not expired. */
    accept(clientId: string, jti: string, expiresAtMs: number, nowMs: number): void {
      const key = `${clientId.toLowerCase()} ${jti}`;
      const known = seen.get(key);
      if (known !== undefined && known > nowMs) {
        throw new OAuthError(
          401,
          'invalid_client',
          'AADSTS700025: The client assertion was already used (its jti was seen before). Sign a new assertion for every token request.',
        );
      }
      if (seen.size >= limit) sweep(nowMs);
      if (seen.size >= limit) {
        // Forgetting entries would let replays through: refuse new assertions until old ones expire.
        throw new OAuthError(
          503,
          'temporarily_unavailable',
          'Too many client assertions in flight. Retry later.',
        );
      }
      // Kept past exp by the clock skew we allow, since the assertion is accepted that long.
      seen.set(key, expiresAtMs + 60_000);
    },
    clear: () => seen.clear(),
  };
}

export type ReplayGuard = ReturnType<typeof createReplayGuard>;
