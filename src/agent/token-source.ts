import type { HttpRequest, HttpResponse } from '../cli/http-client.js';
import { type ClientCertificate, clientAssertion } from './client-certificate.js';

/** A token the agent hands out, with its expiry as managed identity endpoints report it. */
export interface IssuedToken {
  accessToken: string;
  /** Unix seconds. */
  expiresOn: number;
}

/** A failure the agent reports to the workload: its status, an OAuth-style code, what to do. */
export class AgentError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

/** Refresh this long before expiry, as Azure's identity endpoints do, so no caller gets a token about to die. */
export const REFRESH_MARGIN_S = 300;
/** A cached token is handed out until REFRESH_MARGIN_S before it expires, then fetched anew. */
export function needsRefresh(token: IssuedToken, nowMs: number): boolean {
  return token.expiresOn - REFRESH_MARGIN_S <= nowMs / 1000;
}

/** Distinct resources a workload may ask for; a runaway caller cannot grow the cache further. */
const MAX_RESOURCES = 64;

/**
 * Tokens from Coffer's token endpoint for the agent's one principal (client credentials with a
 * certificate assertion), one per resource, cached until REFRESH_MARGIN_S before they expire.
 * Concurrent requests for a resource share one token request.
 */
export function createTokenSource(deps: {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  certificate: ClientCertificate;
  send: (request: HttpRequest) => Promise<HttpResponse>;
  nowMs: () => number;
}) {
  const tokenEndpoint = `${deps.authorityHost}/${encodeURIComponent(deps.tenantId)}/oauth2/v2.0/token`;
  const cache = new Map<string, IssuedToken>();
  const pending = new Map<string, Promise<IssuedToken>>();

  async function request(scope: string): Promise<IssuedToken> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: deps.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(deps.certificate, deps.clientId, tokenEndpoint, deps.nowMs()),
      scope,
    });
    const response = await deps
      .send({
        method: 'POST',
        url: tokenEndpoint,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      })
      .catch((error: unknown) => {
        const code = (error as { code?: string }).code ?? 'error';
        throw new AgentError(
          502,
          'coffer_unreachable',
          `Cannot reach Coffer at ${deps.authorityHost} (${code}).`,
        );
      });
    const answer = (response.json ?? {}) as Record<string, unknown>;
    if (
      response.status === 200 &&
      typeof answer.access_token === 'string' &&
      typeof answer.expires_in === 'number'
    ) {
      return {
        accessToken: answer.access_token,
        expiresOn: Math.floor(deps.nowMs() / 1000) + answer.expires_in,
      };
    }
    // Coffer's OAuth errors name the fix (an unknown scope, an unregistered certificate) and hold no secret.
    const code = typeof answer.error === 'string' ? answer.error : 'token_request_failed';
    const description =
      typeof answer.error_description === 'string' ? answer.error_description : `HTTP ${response.status}`;
    throw new AgentError(
      response.status >= 500 ? 502 : 400,
      code,
      `Coffer refused the token request: ${description}`,
    );
  }

  return {
    /** A token for `resource` (`https://vault.azure.net`, or the challenge's `https://vault.localhost:8443`). */
    async token(resource: string): Promise<IssuedToken> {
      const scope = `${resource.replace(/\/\.default$/, '').replace(/\/+$/, '')}/.default`;
      const cached = cache.get(scope);
      if (cached && !needsRefresh(cached, deps.nowMs())) return cached;
      let inFlight = pending.get(scope);
      if (!inFlight) {
        inFlight = request(scope).finally(() => pending.delete(scope));
        pending.set(scope, inFlight);
      }
      const issued = await inFlight;
      if (!cache.has(scope) && cache.size >= MAX_RESOURCES) cache.delete(cache.keys().next().value!);
      cache.set(scope, issued);
      return issued;
    },
  };
}

export type TokenSource = ReturnType<typeof createTokenSource>;
