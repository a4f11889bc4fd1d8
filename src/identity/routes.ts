import { decodeJwt } from 'jose';
import type { AbuseGuard } from '../core/abuse-guard.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Pipeline } from '../core/pipeline.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import { registerAuthorizeRoutes } from './authorize-routes.js';
import { acceptForms, FORM, FORM_BODY_LIMIT } from '../http/form-body.js';
import { OAuthError } from './oauth-error.js';
import type { SigningKey } from './signing-key.js';
import type { TokenService } from './token-service.js';
import type { UserService } from './user-service.js';

/**
 * The Entra ID compatible endpoints (CONTRACT section 4): OpenID configuration, token, JWKS, and
 * the authorization endpoint (authorize-routes.ts).
 * An unknown tenant is answered as Entra does, with an OAuth error, never with data.
 */
export function registerIdentityRoutes(
  app: FastifyInstance,
  deps: {
    pipeline: Pipeline;
    tokens: TokenService;
    users: Pick<UserService, 'verifyPassword'>;
    codes: Pick<AuthorizationCodes, 'issue'>;
    /** Throttles clients and addresses whose token requests keep failing. */
    guard: Pick<AbuseGuard, 'tokenRequest'>;
    signingKey: () => SigningKey;
    tenantId: () => string;
    authorityHost: () => string;
  },
): void {
  const requireTenant = (request: FastifyRequest) => {
    deps.pipeline.requireUnsealed();
    const { tenantId } = request.params as { tenantId: string };
    if (tenantId.toLowerCase() !== deps.tenantId()) {
      throw new OAuthError(
        400,
        'invalid_tenant',
        `AADSTS90002: Tenant '${tenantId.slice(0, 64)}' not found.`,
      );
    }
    return deps.tenantId();
  };

  const openIdConfiguration = async (request: FastifyRequest) => {
    const tenantId = requireTenant(request);
    const base = `${deps.authorityHost()}/${tenantId}`;
    return {
      issuer: `${base}/v2.0`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
      grant_types_supported: ['client_credentials', 'password', 'authorization_code'],
      response_types_supported: ['code', 'token'],
      code_challenge_methods_supported: ['S256'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
      tenant_region_scope: null,
      cloud_instance_name: 'coffer',
    };
  };
  // Public discovery documents: no caller, nothing to audit (as Entra ID logs sign-ins, not these).
  const unaudited = { config: { audit: false } };
  app.get('/:tenantId/v2.0/.well-known/openid-configuration', unaudited, openIdConfiguration);
  app.get('/:tenantId/.well-known/openid-configuration', unaudited, openIdConfiguration);

  // The sign-in form posts an HTML form.
  app.register(async (scope) => {
    acceptForms(scope);
    registerAuthorizeRoutes(scope, deps);
  });

  app.get('/:tenantId/discovery/v2.0/keys', unaudited, async (request) => {
    requireTenant(request);
    return { keys: [deps.signingKey().publicJwk] };
  });

  // The token endpoint reads forms only (OAuth 2.0, CONTRACT section 4): its own parsers, so no
  // other body (JSON, whose fields may be lists or objects) ever reaches it as one.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    acceptForms(scope);
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (_request, _body, done) => done(null, undefined),
    );
    scope.post('/:tenantId/oauth2/v2.0/token', { config: { operation: 'Authentication' } }, tokenRoute);
  });

  async function tokenRoute(request: FastifyRequest, reply: FastifyReply) {
    const form = (request.body ?? {}) as Record<string, string>;
    // Who asked, for the audit record: identifiers only, never the secret, assertion or password.
    request.auditIdentity = { appId: stringOr(form.client_id), upn: stringOr(form.username) };
    deps.pipeline.requireUnsealed();
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== FORM)
      throw new OAuthError(
        400,
        'invalid_request',
        `AADSTS900144: The token request must be form-encoded: send it with Content-Type: ${FORM}.`,
      );
    const address = deps.pipeline.clientAddress(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
    );
    const subject = { grantType: form.grant_type, clientId: form.client_id, username: form.username };
    const response = await deps.guard.tokenRequest(subject, address, () =>
      deps.tokens.issue({
        tenantId: (request.params as { tenantId: string }).tenantId,
        grantType: form.grant_type,
        clientId: form.client_id,
        clientSecret: form.client_secret,
        clientAssertionType: form.client_assertion_type,
        clientAssertion: form.client_assertion,
        username: form.username,
        password: form.password,
        scope: form.scope,
        code: form.code,
        redirectUri: form.redirect_uri,
        codeVerifier: form.code_verifier,
      }),
    );
    request.auditIdentity.objectId = stringOr(decodeJwt(response.access_token).oid);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return response;
  }
}

const stringOr = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value.slice(0, 256) : undefined;
