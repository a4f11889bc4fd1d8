import type { ConsoleSession } from './sessions.js';

/** One in-process HTTP request to this server (Fastify's inject): the full route, pipeline and audit. */
export type Inject = (request: {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  payload?: string;
  remoteAddress: string;
}) => Promise<{ statusCode: number; body: string }>;

export interface ApiAnswer<T = unknown> {
  status: number;
  ok: boolean;
  body: T;
  /** Azure's error message (or the OAuth error description) when the call failed. */
  error?: string;
}

export const DATA_PLANE_API_VERSION = '7.6';

/**
 * The console's backend calls the same HTTP API as any client, with the signed-in user's token,
 * so every decision is the one authorize() in src/policy and every call leaves its own audit
 * record with the user as caller and the browser's address as client. The request runs in
 * process (no second TLS hop), through exactly the routes a network client reaches.
 */
export function createConsoleApi(deps: {
  inject: Inject;
  /** `https://{vault}.{baseDomain}:{port}` */
  vaultUrl: (vault: string) => string;
  /** `https://{publicHost}:{port}`: the administration API and the identity provider. */
  authorityHost: () => string;
}) {
  async function call<T>(
    request: {
      method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
      /** A data-plane path is sent to this vault's host with api-version; otherwise the admin API. */
      vault?: string;
      path: string;
      query?: Record<string, string | undefined>;
      body?: unknown;
      form?: Record<string, string>;
    },
    caller: { session?: ConsoleSession; address: string; userAgent?: string },
  ): Promise<ApiAnswer<T>> {
    const query = new URLSearchParams();
    if (request.vault) query.set('api-version', DATA_PLANE_API_VERSION);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value) query.set(name, value);
    const origin = request.vault ? deps.vaultUrl(request.vault) : deps.authorityHost();
    const headers: Record<string, string> = { host: new URL(origin).host, 'user-agent': 'coffer-console' };
    if (caller.userAgent) headers['user-agent'] = `coffer-console (${caller.userAgent.slice(0, 200)})`;
    if (caller.session) headers.authorization = `Bearer ${caller.session.accessToken}`;
    let payload: string | undefined;
    if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(request.form).toString();
    } else if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(request.body);
    }
    const search = query.toString();
    const answer = await deps.inject({
      method: request.method,
      url: `${request.path}${search ? `?${search}` : ''}`,
      headers,
      payload,
      remoteAddress: caller.address,
    });
    const body = parse(answer.body) as T;
    const ok = answer.statusCode < 400;
    return {
      status: answer.statusCode,
      ok,
      body,
      error: ok ? undefined : errorMessage(body, answer.statusCode),
    };
  }
  return { call };
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorMessage(body: unknown, status: number): string {
  const azure = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (typeof azure === 'object' && azure?.message) return `${azure.code ?? status}: ${azure.message}`;
  const oauth = body as { error?: string; error_description?: string } | undefined;
  if (typeof oauth?.error_description === 'string') return oauth.error_description;
  return `The server answered ${status}.`;
}

export type ConsoleApi = ReturnType<typeof createConsoleApi>;
