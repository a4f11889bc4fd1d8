import { readFileSync } from 'node:fs';
import type { Connection } from './connection.js';
import { CliError, scrub } from './errors.js';
import { type HttpRequest, type HttpResponse, sendJson, TransportError } from './http-client.js';
import { readSecretLine } from './prompt.js';
import { apiFailure, tokenFailure, transportFailure } from './server-errors.js';

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
    path: string,
    body: unknown,
    bearer?: string,
    extraHeaders: Record<string, string> = {},
  ) => {
    const url = connection.url + path;
    const headers: Record<string, string> = { ...extraHeaders };
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const request: HttpRequest = { method, url, headers };
    if (body !== undefined) request.body = JSON.stringify(body);
    const response = await send(request);
    if (response.status >= 200 && response.status < 300) return response.json;
    throw apiFailure(response, connection.url);
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

  return {
    call: (method, path, body, extraHeaders) =>
      guarded(async () => {
        token ??= await fetchToken(connection, send);
        return callWith(method, path, body, token, extraHeaders);
      }),
    callAnonymous: (method, path, body) => guarded(() => callWith(method, path, body)),
  };
}

async function fetchToken(
  connection: Connection,
  send: (req: HttpRequest) => Promise<HttpResponse>,
): Promise<string> {
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
  const accessToken = (response.json as { access_token?: unknown } | undefined)?.access_token;
  if (response.status === 200 && typeof accessToken === 'string' && accessToken !== '') return accessToken;
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
    'or use --dev-data-dir DIR for a dev server.'
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
