import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { createExpiringRecords } from '../barrier/expiring-records.js';
import type { SecureStore } from '../barrier/secure-store.js';
import type { Clock } from '../lib/clock.js';
import { OAuthError } from './oauth-error.js';

/** Entra ID's codes live ten minutes; the console redeems its code within a second, so one minute is ample. */
export const AUTHORIZATION_CODE_LIFETIME_MS = 60_000;
/** Codes waiting to be redeemed, at most: a flood of sign-ins cannot grow the store without bound. */
const OUTSTANDING_LIMIT = 10_000;

/** What a code stands for: who signed in, for which client, redirect and PKCE challenge. */
export interface AuthorizationGrant {
  clientId: string;
  redirectUri: string;
  /** base64url(SHA-256(code_verifier)): only S256 is accepted. */
  codeChallenge: string;
  objectId: string;
  userPrincipalName: string;
  displayName: string;
  /** The password credential the user signed in with: the token carries it, so a password change revokes it. */
  credentialId: string;
  scope: string;
}

type StoredGrant = AuthorizationGrant & { expiresAtMs: number };

const INVALID_CODE =
  'AADSTS70008: The provided authorization code is invalid, expired or already redeemed. Sign in again.';

/**
 * Authorization codes (RFC 6749 section 4.1 with PKCE, RFC 7636): 256 random bits, kept in the
 * store behind the barrier (so every worker process and node can redeem them) only under their
 * SHA-256 (a store dump yields no redeemable code), redeemable once across all of them (taken in
 * one store transaction), for a minute, by the client and redirect URI they were issued to and the
 * verifier of their challenge. A code presented with the wrong client, redirect or verifier is
 * spent all the same: a stolen code gets one guess.
 */
export function createAuthorizationCodes(store: SecureStore, clock: Clock) {
  const outstanding = createExpiringRecords<StoredGrant>(store, {
    clock,
    limit: OUTSTANDING_LIMIT,
    sharded: true,
    endsAtMs: (grant) => grant.expiresAtMs,
    // Evicting a waiting code would break a sign-in in flight; a flood is refused instead.
    whenFull: 'refuse',
  });

  return {
    async issue(grant: AuthorizationGrant): Promise<string> {
      const code = randomBytes(32).toString('base64url');
      const stored = { ...grant, expiresAtMs: clock.nowMs() + AUTHORIZATION_CODE_LIFETIME_MS };
      if (!(await outstanding.add(code, stored)))
        throw new OAuthError(
          503,
          'temporarily_unavailable',
          'AADSTS90033: Too many sign-ins in progress. Retry in a minute.',
        );
      return code;
    },

    async redeem(request: {
      code: string | undefined;
      clientId: string | undefined;
      redirectUri: string | undefined;
      codeVerifier: string | undefined;
    }): Promise<AuthorizationGrant> {
      if (!request.code || !request.codeVerifier || !request.clientId || !request.redirectUri)
        throw new OAuthError(
          400,
          'invalid_request',
          'AADSTS900144: The request body must contain code, code_verifier, client_id and redirect_uri.',
        );
      if (!VERIFIER_PATTERN.test(request.codeVerifier))
        throw new OAuthError(
          400,
          'invalid_request',
          'AADSTS501491: code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636).',
        );
      // Single use: whatever happens next, this code is gone, and no other process can have it.
      const grant = await outstanding.take(request.code);
      if (!grant) throw new OAuthError(400, 'invalid_grant', INVALID_CODE);
      if (grant.clientId !== request.clientId.toLowerCase())
        throw new OAuthError(400, 'invalid_grant', 'AADSTS70000: The code was issued to another client_id.');
      if (grant.redirectUri !== request.redirectUri)
        throw new OAuthError(
          400,
          'invalid_grant',
          'AADSTS70000: redirect_uri does not match the one the code was issued for.',
        );
      const challenge = createHash('sha256').update(request.codeVerifier).digest('base64url');
      if (!constantTimeEqual(Buffer.from(challenge), Buffer.from(grant.codeChallenge)))
        throw new OAuthError(
          400,
          'invalid_grant',
          'AADSTS501481: The code_verifier does not match the code_challenge supplied in the authorization request.',
        );
      return {
        clientId: grant.clientId,
        redirectUri: grant.redirectUri,
        codeChallenge: grant.codeChallenge,
        objectId: grant.objectId,
        userPrincipalName: grant.userPrincipalName,
        displayName: grant.displayName,
        credentialId: grant.credentialId,
        scope: grant.scope,
      };
    },

    /** Removes codes never redeemed (the leader's periodic sweep). */
    sweep: () => outstanding.sweep(),
  };
}

export const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A base64url SHA-256: exactly 43 characters. */
export const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type AuthorizationCodes = ReturnType<typeof createAuthorizationCodes>;
