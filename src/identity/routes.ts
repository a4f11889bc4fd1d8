import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pipeline } from '../core/pipeline.js';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { OAuthError } from './oauth-error.js';
import type { PrincipalService } from './principal-service.js';
import type { SigningKey } from './signing-key.js';
import type { TokenService } from './token-service.js';
import type { PrincipalRecord } from './types.js';

const FORM_BODY_LIMIT = 64 * 1024;

/**
 * The Entra ID compatible endpoints (CONTRACT section 4): OpenID configuration, token, JWKS.
 * An unknown tenant is answered as Entra does, with an OAuth error, never with data.
 */
export function registerIdentityRoutes(
  app: FastifyInstance,
  deps: {
    pipeline: Pipeline;
    tokens: TokenService;
    signingKey: () => SigningKey;
    tenantId: () => string;
    authorityHost: () => string;
  },
): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

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
      grant_types_supported: ['client_credentials'],
      response_types_supported: ['token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
      tenant_region_scope: null,
      cloud_instance_name: 'coffer',
    };
  };
  app.get('/:tenantId/v2.0/.well-known/openid-configuration', openIdConfiguration);
  app.get('/:tenantId/.well-known/openid-configuration', openIdConfiguration);

  app.get('/:tenantId/discovery/v2.0/keys', async (request) => {
    requireTenant(request);
    return { keys: [deps.signingKey().publicJwk] };
  });

  app.post('/:tenantId/oauth2/v2.0/token', async (request, reply) => {
    deps.pipeline.requireUnsealed();
    const form = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      string
    >;
    const response = await deps.tokens.issue({
      tenantId: (request.params as { tenantId: string }).tenantId,
      grantType: form.grant_type,
      clientId: form.client_id,
      clientSecret: form.client_secret,
      scope: form.scope,
    });
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return response;
  });
}

function principalView(record: PrincipalRecord) {
  return {
    objectId: record.objectId,
    clientId: record.clientId,
    name: record.name,
    administrator: record.administrator,
    enabled: record.enabled,
    createdAt: record.createdAt,
    secrets: record.secrets.map((secret) => ({ id: secret.id, createdAt: secret.createdAt })),
  };
}

/** Service principal administration (docs/admin-api.md). Secret values appear only at creation and reset. */
export function principalAdminRoutes(principals: PrincipalService): AdminRoute[] {
  const id = (request: FastifyRequest) => (request.params as { id: string }).id;
  return [
    {
      method: 'GET',
      url: '/coffer/principals',
      action: ManagementActions.readPrincipals,
      handler: async () => ({ body: { value: (await principals.list()).map(principalView) } }),
    },
    {
      method: 'POST',
      url: '/coffer/principals',
      action: ManagementActions.managePrincipals,
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, administrator: { type: 'boolean' } },
        },
      },
      handler: async (request) => ({
        status: 201,
        body: await principals.create(request.body as { name: string; administrator?: boolean }),
      }),
    },
    {
      method: 'GET',
      url: '/coffer/principals/:id',
      action: ManagementActions.readPrincipals,
      handler: async (request) => ({ body: principalView(await principals.find(id(request))) }),
    },
    {
      method: 'DELETE',
      url: '/coffer/principals/:id',
      action: ManagementActions.managePrincipals,
      handler: async (request) => {
        await principals.remove(id(request));
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      url: '/coffer/principals/:id/reset-secret',
      action: ManagementActions.managePrincipals,
      handler: async (request) => ({ body: await principals.resetSecret(id(request)) }),
    },
  ];
}
