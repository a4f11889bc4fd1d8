import { createHash } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';
import { OAuthError } from './oauth-error.js';
import type { PrincipalService } from './principal-service.js';
import type { SigningKey } from './signing-key.js';
import type { AuthenticatedPrincipal } from './types.js';

export const TOKEN_LIFETIME_SECONDS = 3600;
const VERIFIED_CACHE_LIMIT = 10_000;

export interface TokenRequest {
  tenantId: string;
  grantType: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  scope: string | undefined;
}

export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

/**
 * Issues and verifies access tokens (JWT, RS256) the way Entra ID does for the client
 * credentials flow. Verified tokens are cached by their hash, so the hot path of every
 * data-plane request costs a map lookup, not an RSA verification.
 */
export function createTokenService(deps: {
  principals: Pick<PrincipalService, 'verifyClientSecret' | 'current'>;
  clock: Clock;
  signingKey: () => SigningKey;
  tenantId: () => string;
  issuerBase: () => string;
  audiences: readonly string[];
}) {
  const verified = new Map<string, { objectId: string; expiresAtMs: number }>();
  const issuer = () => `${deps.issuerBase()}/${deps.tenantId()}/v2.0`;

  function audienceForScope(scope: string | undefined): string {
    const resource = scope
      ?.split(' ')
      .find((item) => item.endsWith('/.default'))
      ?.slice(0, -'/.default'.length);
    const audience = resource?.replace(/\/$/, '');
    if (!audience || !deps.audiences.includes(audience)) {
      throw new OAuthError(
        400,
        'invalid_scope',
        `AADSTS70011: The scope '${scope ?? ''}' is not valid. Use one of: ${deps.audiences.map((a) => `${a}/.default`).join(', ')}.`,
      );
    }
    return audience;
  }

  async function issue(request: TokenRequest): Promise<TokenResponse> {
    if (request.tenantId.toLowerCase() !== deps.tenantId()) {
      throw new OAuthError(400, 'invalid_request', `AADSTS90002: Tenant '${request.tenantId}' not found.`);
    }
    if (request.grantType !== 'client_credentials') {
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        'AADSTS70003: Only grant_type=client_credentials is supported.',
      );
    }
    if (!request.clientId || !request.clientSecret) {
      throw new OAuthError(
        400,
        'invalid_request',
        'AADSTS900144: The request body must contain client_id and client_secret.',
      );
    }
    const audience = audienceForScope(request.scope);
    const principal = await deps.principals.verifyClientSecret(request.clientId, request.clientSecret);
    if (!principal) {
      throw new OAuthError(
        401,
        'invalid_client',
        'AADSTS7000215: Invalid client secret provided, or the client is unknown or disabled.',
      );
    }
    const key = deps.signingKey();
    const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
    const token = await new SignJWT({
      tid: deps.tenantId(),
      oid: principal.objectId,
      appid: principal.clientId,
      azp: principal.clientId,
      idtyp: 'app',
      ver: '2.0',
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(issuer())
      .setAudience(audience)
      .setSubject(principal.objectId)
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + TOKEN_LIFETIME_SECONDS)
      .setJti(newUuid())
      .sign(key.privateKey);
    return {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: token,
    };
  }

  /** The principal a bearer token speaks for, or undefined when the token is not acceptable. */
  async function authenticate(token: string): Promise<AuthenticatedPrincipal | undefined> {
    const nowMs = deps.clock.nowMs();
    const cacheKey = createHash('sha256').update(token).digest('base64');
    let entry = verified.get(cacheKey);
    if (entry && entry.expiresAtMs <= nowMs) {
      verified.delete(cacheKey);
      entry = undefined;
    }
    if (!entry) {
      entry = await verify(token, nowMs);
      if (!entry) return undefined;
      if (verified.size >= VERIFIED_CACHE_LIMIT) verified.clear();
      verified.set(cacheKey, entry);
    }
    return deps.principals.current(entry.objectId);
  }

  async function verify(token: string, nowMs: number) {
    try {
      const { payload } = await jwtVerify(token, deps.signingKey().publicKey, {
        issuer: issuer(),
        audience: [...deps.audiences],
        algorithms: ['RS256'],
        currentDate: new Date(nowMs),
        clockTolerance: 60,
        requiredClaims: ['exp', 'oid'],
      });
      if (typeof payload.oid !== 'string' || typeof payload.exp !== 'number') return undefined;
      return { objectId: payload.oid, expiresAtMs: payload.exp * 1000 };
    } catch {
      return undefined;
    }
  }

  return { issue, authenticate, issuer, clearCache: () => verified.clear() };
}

export type TokenService = ReturnType<typeof createTokenService>;
