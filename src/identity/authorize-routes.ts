import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AbuseGuard } from '../core/abuse-guard.js';
import type { Pipeline } from '../core/pipeline.js';
import { CofferError } from '../errors/index.js';
import { HTML_PAGE_HEADERS } from '../lib/html.js';
import type { AuthorizationCodes } from './authorization-codes.js';
import { type AuthorizeRequest, AuthorizeRefusal, checkAuthorizeRequest } from './authorize-request.js';
import { OAuthError } from './oauth-error.js';
import { refusalPage, signInPage } from './sign-in-page.js';
import type { UserRecord } from './types.js';
import type { UserService } from './user-service.js';

const WRONG_PASSWORD = 'The user name or password is wrong, or the user is disabled.';

/**
 * The authorization endpoint (RFC 6749 4.1 with PKCE S256), Entra ID's path: GET shows the
 * sign-in form for a checked request, POST checks the password (throttled exactly as the
 * password grant is: the same abuse guard, the same per-user budget) and redirects to the
 * registered redirect URI with a single-use code.
 */
export function registerAuthorizeRoutes(
  app: FastifyInstance,
  deps: {
    pipeline: Pick<Pipeline, 'requireUnsealed' | 'clientAddress'>;
    guard: Pick<AbuseGuard, 'tokenRequest'>;
    users: Pick<UserService, 'verifyPassword'>;
    codes: Pick<AuthorizationCodes, 'issue'>;
    tenantId: () => string;
    authorityHost: () => string;
  },
): void {
  const path = '/:tenantId/oauth2/v2.0/authorize';

  /** The checked request, or undefined when the reply already says why it was refused. */
  function checked(
    request: FastifyRequest,
    reply: FastifyReply,
    params: unknown,
  ): AuthorizeRequest | undefined {
    deps.pipeline.requireUnsealed();
    const { tenantId } = request.params as { tenantId: string };
    const fields = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
    request.auditIdentity = {
      appId: typeof fields.client_id === 'string' ? fields.client_id.slice(0, 64) : undefined,
    };
    try {
      if (tenantId.toLowerCase() !== deps.tenantId()) throw new AuthorizeRefusal('invalid_tenant');
      return checkAuthorizeRequest(fields, deps.authorityHost());
    } catch (error) {
      if (!(error instanceof AuthorizeRefusal)) throw error;
      const message =
        error.code === 'invalid_tenant'
          ? `AADSTS90002: Tenant '${tenantId.slice(0, 64)}' not found.`
          : error.message;
      void reply.code(400).headers(HTML_PAGE_HEADERS).send(refusalPage('Sign-in refused', message));
      return undefined;
    }
  }

  app.get(path, { config: { operation: 'AuthorizeForm' } }, async (request, reply) => {
    const authorize = checked(request, reply, request.query);
    if (!authorize) return reply;
    return reply.headers(HTML_PAGE_HEADERS).send(signInPage(authorize));
  });

  app.post(path, { config: { operation: 'SignIn' } }, async (request, reply) => {
    const authorize = checked(request, reply, request.body);
    if (!authorize) return reply;
    const form = request.body as Record<string, unknown>;
    const username = typeof form.username === 'string' ? form.username.slice(0, 256) : '';
    const password = typeof form.password === 'string' ? form.password : '';
    request.auditIdentity = { appId: authorize.clientId, upn: username || undefined };
    const address = deps.pipeline.clientAddress(
      request.socket.remoteAddress,
      request.headers['x-forwarded-for'],
    );
    let user: UserRecord;
    try {
      user = await deps.guard.tokenRequest(
        { grantType: 'password', clientId: authorize.clientId, username },
        address,
        async () => {
          const found =
            username && password ? await deps.users.verifyPassword(username, password) : undefined;
          if (!found) throw new OAuthError(400, 'invalid_grant', WRONG_PASSWORD);
          return found;
        },
      );
    } catch (error) {
      if (error instanceof OAuthError)
        return reply
          .code(400)
          .headers(HTML_PAGE_HEADERS)
          .send(signInPage(authorize, { username, error: WRONG_PASSWORD }));
      if (error instanceof CofferError && error.status === 429)
        return reply
          .code(429)
          .headers({ ...HTML_PAGE_HEADERS, ...error.headers })
          .send(
            signInPage(authorize, {
              username,
              error: `Too many failed sign-ins. Wait ${error.headers['retry-after'] ?? 60} seconds, then try again.`,
            }),
          );
      throw error;
    }
    request.auditIdentity.objectId = user.objectId;
    const code = await deps.codes.issue({
      clientId: authorize.clientId,
      redirectUri: authorize.redirectUri,
      codeChallenge: authorize.codeChallenge,
      objectId: user.objectId,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      credentialId: user.password.id,
      scope: authorize.scope,
    });
    const target = new URL(authorize.redirectUri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', authorize.state);
    // 303: the browser follows with a GET, and the password is not re-posted.
    return reply
      .code(303)
      .header('location', target.toString())
      .header('referrer-policy', 'no-referrer')
      .send();
  });
}
