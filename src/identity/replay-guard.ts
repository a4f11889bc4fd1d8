import { createHash } from 'node:crypto';
import { CofferError } from '../errors/index.js';
import { OAuthError } from './oauth-error.js';

/** Records an id until a time, atomically for every node of the installation (storage/cluster.ts). */
export type Claim = (id: string, untilMs: number, nowMs: number) => Promise<boolean>;

/** Accepted this long past exp: the verifier allows that much clock skew. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Remembers the `jti` of every accepted client assertion until it expires, so the same signed
 * assertion cannot be exchanged twice, on this node or any other: the memory is a claim in the
 * shared store, decided once for the whole installation and kept across restarts. When the store
 * cannot take the claim (read-only mode) the assertion is refused rather than let a replay in.
 */
export function createReplayGuard(deps: { claim: Claim }) {
  return {
    /** Records the assertion; throws invalid_client if it was seen before and has not expired. */
    async accept(clientId: string, jti: string, expiresAtMs: number, nowMs: number): Promise<void> {
      const id = `assertion:${createHash('sha256').update(`${clientId.toLowerCase()} ${jti}`).digest('hex')}`;
      let fresh: boolean;
      try {
        fresh = await deps.claim(id, expiresAtMs + CLOCK_SKEW_MS, nowMs);
      } catch (error) {
        if (error instanceof CofferError && error.status === 503) {
          throw new OAuthError(
            503,
            'temporarily_unavailable',
            'Client assertions cannot be accepted while Coffer cannot record them (read-only mode or its store is unreachable). Retry later, or use a client secret.',
          );
        }
        throw error;
      }
      if (!fresh) {
        throw new OAuthError(
          401,
          'invalid_client',
          'AADSTS700025: The client assertion was already used (its jti was seen before). Sign a new assertion for every token request.',
        );
      }
    },
  };
}

export type ReplayGuard = ReturnType<typeof createReplayGuard>;
