import { readFileSync } from 'node:fs';
import type { Connection } from './connection.js';
import { CliError, scrub } from './errors.js';
import type { IncomingMessage } from 'node:http';
import { type HttpRequest, type HttpResponse, openStream, sendJson, TransportError } from './http-client.js';
import { readSecretLine } from './prompt.js';
import { apiFailure, type ErrorHints, tokenFailure, transportFailure } from './server-errors.js';

/** A client of the administration API (docs/admin-api.md) for one resolved connection. */
export interface ApiClient {
  /** Calls with a bearer token of the configured principal (and any extra headers). */
  call(
    method: HttpRequest['method'],
    path: string,
    body?: unknown,
    extraHeaders?: Record<string, string>,
  ): Promise<unknown>;
  /** Calls without a token: for the operator endpoints that work before anyone can log in. */
  callAnonymous(method: HttpRequest['method'], path: string, body?: unknown): Promise<unknown>;
  /**
   * Calls an absolute URL (a vault's data plane) with the same token; `hints` add a next step
   * for error codes of that API (e.g. SecretNotFound).
   */
  callUrl(method: HttpRequest['method'], url: string, body?: unknown, hints?: ErrorHints): Promise<unknown>;
  /** Gets a new token from the credentials (never the cached one): what `coffer login` checks. */
  signIn(): Promise<IssuedToken>;
  /** Calls with a token for an answer that is a byte stream (a whole backup); the caller reads it. */
  stream(method: HttpRequest['method'], path: string): Promise<IncomingMessage>;
}

export interface IssuedToken {
  accessToken: string;
  /** ISO 8601 time the token stops working. */
  expiresOn: string;
}

export function createApiClient(connection: Connection): ApiClient {
  const caPem = connection.caFile === undefined ? undefined : readCaFile(connection.caFile);
  let token: string | undefined;

  const send = async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      return await sendJson(caPem === undefined ? req : { ...req, caPem });
    } catch (error) {
      if (error instanceof TransportError) throw transportFailure(error);
      throw error;
    }
  };

  const callWith = async (
    method: HttpRequest['method'],
    url: string,
    body: unknown,
    bearer?: string,
    hints?: ErrorHints,
    extraHeaders: Record<string, string> = {},
  ) => {
    const headers: Record<string, string> = { ...extraHeaders };
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const request: HttpRequest = { method, url, headers };
    if (body !== undefined) request.body = JSON.stringify(body);
    const response = await send(request);
    if (response.status >= 200 && response.status < 300) return response.json;
    throw apiFailure(response, connection.url, hints);
  };

  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      // Belt and braces: even if a server echoes a credential, it never reaches the terminal.
      if (error instanceof CliError)
        throw new CliError(
          scrub(error.message, [connection.clientSecret, process.env['COFFER_PASSWORD'], token]),
        );
      throw error;
    }
  };

  const withToken = (
    method: HttpRequest['method'],
    url: string,
    body: unknown,
    hints?: ErrorHints,
    extraHeaders?: Record<string, string>,
  ) =>
    guarded(async () => {
      token ??= await accessToken(connection, send);
      return callWith(method, url, body, token, hints, extraHeaders);
    });

  return {
    call: (method, path, body, extraHeaders) =>
      withToken(method, connection.url + path, body, undefined, extraHeaders),
    callAnonymous: (method, path, body) => guarded(() => callWith(method, connection.url + path, body)),
    callUrl: (method, url, body, hints) => withToken(method, url, body, hints),
    signIn: () => guarded(() => fetchToken(connection, send)),
    stream: (method, path) =>
      guarded(async () => {
        token ??= await accessToken(connection, send);
        const request: HttpRequest = {
          method,
          url: connection.url + path,
          headers: { authorization: `Bearer ${token}` },
        };
        if (caPem !== undefined) request.caPem = caPem;
        let opened: Awaited<ReturnType<typeof openStream>>;
        try {
          opened = await openStream(request);
        } catch (error) {
          if (error instanceof TransportError) throw transportFailure(error);
          throw error;
        }
        if (opened.ok) return opened.incoming;
        throw apiFailure(opened.response, connection.url);
      }),
  };
}

/**
 * The token `coffer login` cached for a user, while it lasts (a user's password is never stored);
 * otherwise a fresh one from the credentials.
 */
async function accessToken(
  connection: Connection,
  send: (req: HttpRequest) => Promise<HttpResponse>,
): Promise<string> {
  const cached = connection.cachedToken;
  if (cached === undefined || process.env['COFFER_PASSWORD'])
    return (await fetchToken(connection, send)).accessToken;
  if (Date.parse(cached.expiresOn) > Date.now() + 30_000) return cached.accessToken;
  throw new CliError(
    `the sign-in of ${connection.username ?? 'this profile'} to ${connection.url} expired at ${cached.expiresOn}. ` +
      `Run \`coffer login --username ${connection.username ?? 'UPN'}\` again (or set COFFER_PASSWORD).`,
  );
}

async function fetchToken(
  connection: Connection,
  send: (req: HttpRequest) => Promise<HttpResponse>,
): Promise<IssuedToken> {
  const { tenantId } = connection;
  if (tenantId === undefined) throw new CliError(missingCredentials(connection));
  const form = await credentialsForm(connection);
  form.set('scope', `https://${connection.baseDomain}/.default`);
  const response = await send({
    method: 'POST',
    url: `${connection.authorityHost}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const answer = response.json as { access_token?: unknown; expires_in?: unknown } | undefined;
  const accessToken = answer?.access_token;
  if (response.status === 200 && typeof accessToken === 'string' && accessToken !== '') {
    const lifetimeSeconds = typeof answer?.expires_in === 'number' ? answer.expires_in : 3600;
    return { accessToken, expiresOn: new Date(Date.now() + lifetimeSeconds * 1000).toISOString() };
  }
  throw tokenFailure(response, connection.authorityHost);
}

/**
 * A user signs in with a password (read from COFFER_PASSWORD, else asked for without echo,
 * never taken from a flag where it would sit in shell history); otherwise a service principal's
 * client secret.
 */
async function credentialsForm(connection: Connection): Promise<URLSearchParams> {
  if (connection.username !== undefined) {
    const password = process.env['COFFER_PASSWORD'] || (await passwordFromTerminal(connection.username));
    return new URLSearchParams({ grant_type: 'password', username: connection.username, password });
  }
  const { clientId, clientSecret } = connection;
  if (clientId === undefined || clientSecret === undefined)
    throw new CliError(missingCredentials(connection));
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
  });
}

async function passwordFromTerminal(username: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError(`no password for ${username}: set COFFER_PASSWORD, or run the command in a terminal.`);
  }
  return readSecretLine(`Password for ${username}: `);
}

function missingCredentials(connection: Connection): string {
  const signsInAsUser = connection.username !== undefined;
  const missing = [
    connection.tenantId === undefined ? '--tenant-id' : undefined,
    !signsInAsUser && connection.clientId === undefined ? '--client-id' : undefined,
    !signsInAsUser && connection.clientSecret === undefined ? '--client-secret' : undefined,
  ].filter((name) => name !== undefined);
  return (
    `no credentials to log in to ${connection.url} (missing ${missing.join(', ')}). ` +
    'Pass them as flags or COFFER_TENANT_ID, COFFER_CLIENT_ID, COFFER_CLIENT_SECRET, ' +
    'sign in as a user with --tenant-id and --username (password in COFFER_PASSWORD), ' +
    'save them once with `coffer login`, or use --dev-data-dir DIR for a dev server.'
  );
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read the CA file ${path} (${reason}). Check --ca-file or COFFER_CA_FILE.`);
  }
}
