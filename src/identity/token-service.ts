import { createHash } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import type { ClientAuthenticator, ClientCredentials } from './client-authenticator.js';
import type { Directory } from './directory.js';
import { OAuthError } from './oauth-error.js';
import type { SigningKey } from './signing-key.js';
import type { AuthenticatedPrincipal, UserRecord } from './types.js';
import type { UserService } from './user-service.js';

export const TOKEN_LIFETIME_SECONDS = 3600;
/** Clock skew allowed between the node that issued a token and the one verifying it. */
export const CLOCK_TOLERANCE_SECONDS = 60;
/** Verified tokens kept: each is ~200 bytes, so the bound is ~2 MB. */
export const VERIFIED_CACHE_LIMIT = 10_000;
/**
 * A private claim: the id of the credential (secret, certificate, federated credential or
 * password) the token was issued for, so removing that credential revokes the token too.
 */
const CREDENTIAL_CLAIM = 'coffer_cred';

export interface TokenRequest extends ClientCredentials {
  tenantId: string;
  grantType: string | undefined;
  scope: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** The authorization code grant (the web console's sign-in): RFC 6749 4.1.3 with PKCE. */
  code?: string | undefined;
  redirectUri?: string | undefined;
  codeVerifier?: string | undefined;
}

/** Which API a token is presented to: a vault (data plane and admin API) or Resource Manager. */
export type TokenPlane = 'vault' | 'management';

export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

/**
 * Issues and verifies access tokens (JWT, RS256) the way Entra ID does for the client
 * credentials flow (service principals) and the resource-owner password flow (users).
 * Verified tokens are cached by their hash, so the hot path of every data-plane request costs
 * a map lookup, not an RSA verification. The cache is bounded (`verifiedCacheLimit`, expired
 * entries out first, then the oldest) and never outlives a token's `exp`; it keeps only what
 * the signature proved (object id, credential id, audience, expiry), so revocation is not
 * cached with it: every request still asks the directory whether the principal is enabled and
 * the credential still there, which is immediate on this process and at most
 * PRINCIPAL_CACHE_MS (30 s) late for a change made by another process.
 */
export function createTokenService(deps: {
  clients: ClientAuthenticator;
  users: Pick<UserService, 'verifyPassword'>;
  codes: Pick<AuthorizationCodes, 'redeem'>;
  directory: Pick<Directory, 'resolve'>;
  clock: Clock;
  signingKey: () => SigningKey;
  tenantId: () => string;
  issuerBase: () => string;
  /** Audiences of the vault data plane (and the admin API). */
  audiences: () => readonly string[];
  /** Audiences of the management plane (ARM); a token for one plane is refused by the other. */
  managementAudiences?: () => readonly string[];
  /** Most verified tokens kept (VERIFIED_CACHE_LIMIT when absent). */
  verifiedCacheLimit?: number;
}) {
  const cacheLimit = deps.verifiedCacheLimit ?? VERIFIED_CACHE_LIMIT;
  const verified = new Map<
    string,
    { objectId: string; credentialId?: string; audience: string; expiresAtMs: number }
  >();
  const issuer = () => `${deps.issuerBase()}/${deps.tenantId()}/v2.0`;
  const audiencesOf = (plane: TokenPlane): readonly string[] =>
    plane === 'management' ? (deps.managementAudiences?.() ?? []) : deps.audiences();

  function audienceForScope(scope: string | undefined): string {
    const resource = scope
      ?.split(' ')
      .find((item) => item.endsWith('/.default'))
      ?.slice(0, -'/.default'.length);
    const audience = resource?.replace(/\/$/, '');
    const audiences = [...deps.audiences(), ...audiencesOf('management')];
    if (!audience || !audiences.includes(audience)) {
      throw new OAuthError(
        400,
        'invalid_scope',
        `AADSTS70011: The scope '${scope ?? ''}' is not valid. Use one of: ${audiences.map((a) => `${a}/.default`).join(', ')}.`,
      );
    }
    return audience;
  }

  async function sign(
    claims: Record<string, unknown>,
    subject: string,
    audience: string,
  ): Promise<TokenResponse> {
    const key = deps.signingKey();
    const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
    const token = await new SignJWT({ tid: deps.tenantId(), ver: '2.0', ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(issuer())
      .setAudience(audience)
      .setSubject(subject)
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

  async function clientCredentials(request: TokenRequest): Promise<TokenResponse> {
    const audience = audienceForScope(request.scope);
    const { record, credentialId } = await deps.clients.authenticate(request);
    const claims = { oid: record.objectId, appid: record.clientId, azp: record.clientId, idtyp: 'app' };
    return sign({ ...claims, [CREDENTIAL_CLAIM]: credentialId }, record.objectId, audience);
  }

  /** The resource-owner password flow, for `coffer login`-style sign-in of users. */
  async function passwordGrant(request: TokenRequest): Promise<TokenResponse> {
    if (!request.username || !request.password) {
      throw new OAuthError(
        400,
        'invalid_request',
        'AADSTS900144: The request body must contain username and password.',
      );
    }
    const audience = audienceForScope(request.scope);
    const user: UserRecord | undefined = await deps.users.verifyPassword(request.username, request.password);
    if (!user) {
      throw new OAuthError(
        400,
        'invalid_grant',
        'AADSTS50126: Error validating credentials due to invalid username or password, or the user is disabled.',
      );
    }
    return signUser(user, user.password.id, audience, request.clientId);
  }

  /** A user's token, from the password or the authorization code grant. */
  function signUser(
    user: Pick<UserRecord, 'objectId' | 'userPrincipalName' | 'displayName'>,
    credentialId: string,
    audience: string,
    clientId: string | undefined,
  ): Promise<TokenResponse> {
    const app = clientId ? { appid: clientId, azp: clientId } : {};
    const claims = {
      oid: user.objectId,
      upn: user.userPrincipalName,
      unique_name: user.userPrincipalName,
      name: user.displayName,
      idtyp: 'user',
      scp: 'user_impersonation',
      ...app,
    };
    return sign({ ...claims, [CREDENTIAL_CLAIM]: credentialId }, user.objectId, audience);
  }

  /** The code is spent before anything else is checked; the user must still exist and be enabled. */
  async function authorizationCodeGrant(request: TokenRequest): Promise<TokenResponse> {
    const grant = await deps.codes.redeem({
      code: request.code,
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeVerifier: request.codeVerifier,
    });
    const audience = audienceForScope(grant.scope);
    const resolved = await deps.directory.resolve(grant.objectId);
    if (!resolved || !resolved.credentialIds.has(grant.credentialId))
      throw new OAuthError(
        400,
        'invalid_grant',
        'AADSTS50057: The user was disabled, deleted or changed their password after signing in. Sign in again.',
      );
    return signUser(grant, grant.credentialId, audience, grant.clientId);
  }

  async function issue(request: TokenRequest): Promise<TokenResponse> {
    if (request.tenantId.toLowerCase() !== deps.tenantId()) {
      throw new OAuthError(400, 'invalid_request', `AADSTS90002: Tenant '${request.tenantId}' not found.`);
    }
    if (request.grantType === 'client_credentials') return clientCredentials(request);
    if (request.grantType === 'password') return passwordGrant(request);
    if (request.grantType === 'authorization_code') return authorizationCodeGrant(request);
    throw new OAuthError(
      400,
      'unsupported_grant_type',
      'AADSTS70003: Only grant_type=client_credentials, password and authorization_code are supported.',
    );
  }

  /**
   * The principal a bearer token speaks for, or undefined when the token is not acceptable: among
   * others, when it was issued for the other plane (a vault token on ARM, an ARM token on a vault).
   */
  async function authenticate(
    token: string,
    plane: TokenPlane = 'vault',
  ): Promise<AuthenticatedPrincipal | undefined> {
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
      if (verified.size >= cacheLimit) makeRoom(nowMs);
      verified.set(cacheKey, entry);
    }
    if (!audiencesOf(plane).includes(entry.audience)) return undefined;
    const resolved = await deps.directory.resolve(entry.objectId);
    if (!resolved) return undefined;
    // Tokens from before credential ids existed carry none; they age out within the hour.
    if (entry.credentialId !== undefined && !resolved.credentialIds.has(entry.credentialId)) return undefined;
    return resolved.principal;
  }

  /** Drops the expired entries, and if none had expired the oldest (a Map keeps insertion order). */
  function makeRoom(nowMs: number): void {
    for (const [key, entry] of verified) if (entry.expiresAtMs <= nowMs) verified.delete(key);
    for (const key of verified.keys()) {
      if (verified.size < cacheLimit) break;
      verified.delete(key);
    }
  }

  async function verify(token: string, nowMs: number) {
    try {
      const { payload } = await jwtVerify(token, deps.signingKey().publicKey, {
        issuer: issuer(),
        audience: [...deps.audiences(), ...audiencesOf('management')],
        algorithms: ['RS256'],
        currentDate: new Date(nowMs),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'oid'],
      });
      if (typeof payload.oid !== 'string' || typeof payload.exp !== 'number') return undefined;
      if (typeof payload.aud !== 'string') return undefined;
      const credential = payload[CREDENTIAL_CLAIM];
      return {
        objectId: payload.oid,
        audience: payload.aud,
        credentialId: typeof credential === 'string' ? credential : undefined,
        // The cache honours a token exactly as long as the verification would.
        expiresAtMs: (payload.exp + CLOCK_TOLERANCE_SECONDS) * 1000,
      };
    } catch {
      return undefined;
    }
  }

  return {
    issue,
    authenticate,
    issuer,
    clearCache: () => verified.clear(),
    /** How many verified tokens are kept, for tests and diagnostics. */
    cachedTokens: () => verified.size,
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
