import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { Sealed } from '../errors/index.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID } from '../identity/console-client.js';
import { HTML_PAGE_HEADERS } from '../lib/html.js';
import { VAULT_NAME_PATTERN, VAULT_NAME_RULE } from '../lib/vault-name.js';
import type { ConsoleApi } from './api.js';
import { layout } from './layout.js';
import type { ConsoleContext, ConsolePage, PageResult } from './page-types.js';
import type { ConsoleSessions, ConsoleSession } from './sessions.js';
import { plainPage } from './plain-page.js';

const SESSION_COOKIE = '__Host-coffer-session';
const SIGN_IN_COOKIE = '__Host-coffer-sign-in';
/** __Host-: only this origin, path /, Secure; SameSite=Strict: no cross-site request carries it. */
const COOKIE_FLAGS = 'Path=/; Secure; HttpOnly; SameSite=Strict';

export interface ConsoleDeps {
  api: ConsoleApi;
  sessions: ConsoleSessions;
  pages: ConsolePage[];
  tenantId: () => string;
  authorityHost: () => string;
  /** The scope the console asks a token for: the vault plane's audience. */
  scope: () => string;
  clientAddress: (request: FastifyRequest) => string;
  /** Throws Throttled (429 with Retry-After) once this address started too many sign-ins. */
  admitSignIn: (address: string) => Promise<void>;
}

/**
 * The web console at /ui: sign-in through the identity provider's authorization code flow with
 * PKCE, a server-side session (the browser holds only an opaque HttpOnly cookie, never the
 * token), a CSRF token on every write, and pages that call the HTTP API as the signed-in user.
 */
export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): void {
  registerAssets(app);
  const send = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).headers(HTML_PAGE_HEADERS).send(body);
  const caller = (request: FastifyRequest, session?: ConsoleSession) => ({
    session,
    address: deps.clientAddress(request),
    userAgent: request.headers['user-agent'],
  });

  /**
   * Sessions and sign-ins live behind the barrier: while sealed none can be read, so none is
   * usable, and the browser gets a page that says why instead of the API's JSON error.
   */
  const unlessSealed =
    (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await handler(request, reply);
      } catch (error) {
        if (!(error instanceof Sealed)) throw error;
        return send(reply.header('retry-after', '5'), 503, plainPage('Sealed', SEALED_TEXT, false));
      }
    };

  app.get('/ui', { config: { operation: 'ConsolePage' } }, async (_request, reply) =>
    reply.code(303).header('location', '/ui/vaults').send(),
  );

  app.get(
    '/ui/sign-in',
    { config: { operation: 'ConsoleSignIn' } },
    unlessSealed(async (request, reply) => {
      await deps.admitSignIn(deps.clientAddress(request));
      const { id, attempt } = await deps.sessions.startSignIn();
      const authorize = new URL(`${deps.authorityHost()}/${deps.tenantId()}/oauth2/v2.0/authorize`);
      const challenge = createHash('sha256').update(attempt.codeVerifier).digest('base64url');
      for (const [name, value] of Object.entries({
        client_id: CONSOLE_CLIENT_ID,
        redirect_uri: `${deps.authorityHost()}${CONSOLE_CALLBACK_PATH}`,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: attempt.state,
        scope: deps.scope(),
      }))
        authorize.searchParams.set(name, value);
      return reply
        .code(303)
        .header('set-cookie', `${SIGN_IN_COOKIE}=${id}; ${COOKIE_FLAGS}; Max-Age=600`)
        .header('location', authorize.toString())
        .send();
    }),
  );

  app.get(
    CONSOLE_CALLBACK_PATH,
    { config: { operation: 'ConsoleCallback' } },
    unlessSealed(async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      const attempt = await deps.sessions.finishSignIn(cookie(request, SIGN_IN_COOKIE), query.state);
      reply.header('set-cookie', `${SIGN_IN_COOKIE}=; ${COOKIE_FLAGS}; Max-Age=0`);
      if (!attempt || typeof query.code !== 'string')
        return send(
          reply,
          400,
          plainPage('Sign-in failed', 'This sign-in expired, was already used or did not start here.', true),
        );
      const redeemed = await deps.api.call<{ access_token?: string }>(
        {
          method: 'POST',
          path: `/${deps.tenantId()}/oauth2/v2.0/token`,
          form: {
            grant_type: 'authorization_code',
            client_id: CONSOLE_CLIENT_ID,
            redirect_uri: `${deps.authorityHost()}${CONSOLE_CALLBACK_PATH}`,
            code: query.code,
            code_verifier: attempt.codeVerifier,
          },
        },
        caller(request),
      );
      const token = redeemed.body?.access_token;
      if (!redeemed.ok || !token)
        return send(reply, redeemed.status, plainPage('Sign-in failed', redeemed.error ?? 'No token.', true));
      const claims = decodeJwt(token);
      const id = await deps.sessions.create({
        accessToken: token,
        userPrincipalName: String(claims.upn ?? ''),
        objectId: String(claims.oid ?? ''),
        // A token without a numeric expiry (never issued here) gives a session that is already over.
        expiresAtMs: Number.isFinite(claims.exp) ? Number(claims.exp) * 1000 : 0,
      });
      request.auditIdentity = { objectId: String(claims.oid ?? ''), upn: String(claims.upn ?? '') };
      return reply
        .code(303)
        .header('set-cookie', [
          `${SIGN_IN_COOKIE}=; ${COOKIE_FLAGS}; Max-Age=0`,
          `${SESSION_COOKIE}=${id}; ${COOKIE_FLAGS}`,
        ])
        .header('location', '/ui/vaults')
        .send();
    }),
  );

  app.post(
    '/ui/sign-out',
    { config: { operation: 'ConsoleSignOut' } },
    unlessSealed(async (request, reply) => {
      const session = await deps.sessions.get(cookie(request, SESSION_COOKIE));
      if (session && !writeAllowed(request, session))
        return send(reply, 403, plainPage('Refused', CSRF_REFUSAL, false));
      await deps.sessions.end(cookie(request, SESSION_COOKIE));
      reply.header('set-cookie', `${SESSION_COOKIE}=; ${COOKIE_FLAGS}; Max-Age=0`);
      return send(reply, 200, plainPage('Signed out', 'You are signed out of the Coffer console.', true));
    }),
  );

  for (const page of deps.pages) {
    app.route({
      method: page.method,
      url: `/ui${page.url}`,
      config: { operation: page.method === 'GET' ? 'ConsolePage' : 'ConsoleAction' },
      handler: unlessSealed(async (request, reply) => {
        const sessionId = cookie(request, SESSION_COOKIE);
        const session = await deps.sessions.get(sessionId);
        if (!sessionId || !session) {
          if (page.method === 'GET') return reply.code(303).header('location', '/ui/sign-in').send();
          return send(
            reply,
            401,
            plainPage('Session ended', 'Your session ended. Sign in again; nothing was changed.', true),
          );
        }
        request.auditIdentity = { objectId: session.objectId, upn: session.userPrincipalName };
        if (page.method === 'POST' && !writeAllowed(request, session))
          return send(reply, 403, plainPage('Refused', CSRF_REFUSAL, false));
        // The vault becomes part of a host name for the API call: anything but a vault name
        // (a space, a dot, an '@') would make no URL, or address another host.
        const { vault } = request.params as { vault?: string };
        if (vault !== undefined && !VAULT_NAME_PATTERN.test(vault))
          return send(
            reply,
            400,
            plainPage(
              'No such vault',
              `'${vault.slice(0, 40)}' is not a vault name: ${VAULT_NAME_RULE}.`,
              false,
            ),
          );
        const context: ConsoleContext = {
          request,
          session,
          params: request.params as Record<string, string>,
          query: (request.query ?? {}) as Record<string, string>,
          form: page.method === 'POST' ? formOf(request) : {},
          api: (call) => deps.api.call(call, caller(request, session)),
        };
        return answer(reply, sessionId, session, await page.handler(context));
      }),
    });
  }

  async function answer(reply: FastifyReply, sessionId: string, session: ConsoleSession, result: PageResult) {
    if ('redirect' in result) {
      await deps.sessions.settle(sessionId, session, result.flash);
      return reply.code(303).header('location', result.redirect).send();
    }
    if ('download' in result) {
      await deps.sessions.settle(sessionId, session);
      const { filename, contentType, content } = result.download;
      return reply
        .code(200)
        .headers({
          'content-type': contentType,
          'content-disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
        })
        .send(content);
    }
    const status = result.status ?? 200;
    // A refusal page changes nothing: the flash waits for the next page that is no refusal.
    if (status >= 400) return send(reply, status, layout({ ...result, session }));
    await deps.sessions.settle(sessionId, session, 'shown');
    return send(reply, status, layout({ ...result, session, flash: session.flash }));
  }
}

const SEALED_TEXT =
  'Coffer is sealed: nobody can sign in or use the console until an operator unseals it (coffer operator unseal). Sessions started before the seal resume after it, within their lifetimes.';

const CSRF_REFUSAL =
  'This form did not come from your current console session (its CSRF token is missing or stale). Reload the page and submit it again; nothing was changed.';

/** A write must carry the session's CSRF token and, when the browser names one, come from this origin. */
function writeAllowed(request: FastifyRequest, session: ConsoleSession): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== request.baseUrl) return false;
  const token = formOf(request)._csrf;
  return typeof token === 'string' && constantTimeEqual(token, session.csrfToken);
}

function formOf(request: FastifyRequest): Record<string, string> {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return {};
  return Object.fromEntries(Object.entries(body).filter(([, value]) => typeof value === 'string')) as Record<
    string,
    string
  >;
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

const ASSET_TYPES: Record<string, string> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};

/** The stylesheet and script, read once at start from the package (never fetched from elsewhere). */
function registerAssets(app: FastifyInstance): void {
  const built = path.join(import.meta.dirname, 'assets');
  const source = path.resolve(import.meta.dirname, '../../../src/ui/assets');
  const dir = existsSync(built) ? built : source;
  const assets = new Map(Object.keys(ASSET_TYPES).map((name) => [name, readFileSync(path.join(dir, name))]));
  // Static files: no caller, nothing to audit (as with the discovery documents).
  app.get('/ui/assets/:file', { config: { audit: false } }, async (request, reply) => {
    const { file } = request.params as { file: string };
    const content = assets.get(file);
    if (!content)
      return reply
        .code(404)
        .headers(HTML_PAGE_HEADERS)
        .send(plainPage('Not found', 'No such file.', false));
    return reply.header('content-type', ASSET_TYPES[file]).header('cache-control', 'no-cache').send(content);
  });
}
