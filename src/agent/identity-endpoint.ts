import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { AgentError, type TokenSource } from './token-source.js';

/**
 * Azure App Service's managed identity protocol (what `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`
 * point at, and what MSAL's AppService source and so `ManagedIdentityCredential` and
 * `DefaultAzureCredential` call): `GET {endpoint}?resource=R&api-version=2019-08-01` with header
 * `X-IDENTITY-HEADER`, answered `{access_token, expires_on, resource, token_type, client_id}`.
 * Plain HTTP, as App Service's, so it must stay on loopback: it hands out tokens to anyone who
 * reaches it with the header.
 */
export const IDENTITY_PATH = '/msi/token';
export const API_VERSION = '2019-08-01';
const MAX_RESOURCE_LENGTH = 512;
const SHUTDOWN_DEADLINE_MS = 5_000;

export interface IdentityEndpointOptions {
  /** A loopback address: 127.0.0.1 or ::1. */
  host: string;
  port: number;
  /** The shared secret callers send as X-IDENTITY-HEADER (IDENTITY_HEADER in their environment). */
  header: string;
  clientId: string;
  tokens: Pick<TokenSource, 'token'>;
  /** Failures that are the agent's own (not a caller's mistake), for its log; never a token. */
  onInternalError?: (error: Error) => void;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

export async function startIdentityEndpoint(options: IdentityEndpointOptions) {
  if (!isLoopback(options.host)) {
    throw new AgentError(
      400,
      'invalid_host',
      `the identity endpoint listens on loopback only (127.0.0.1 or ::1), not ${options.host}`,
    );
  }
  const server = createServer((request, response) => {
    void answer(request, options)
      .then((body) => send(response, 200, body))
      .catch((error: unknown) => {
        if (error instanceof AgentError)
          return send(response, error.status, { error: error.code, error_description: error.message });
        options.onInternalError?.(error as Error);
        return send(response, 500, {
          error: 'internal_error',
          error_description: 'The agent hit an internal error; see its log.',
        });
      });
  });
  // Deadlines, as Coffer's own server keeps: a slow or idle local caller holds nothing for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}${IDENTITY_PATH}`,
    async close(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS);
      await closed;
      clearTimeout(deadline);
    },
  };
}

async function answer(request: IncomingMessage, options: IdentityEndpointOptions) {
  // The socket's peer, never a header: only this machine's processes are served.
  if (!isLoopback(request.socket.remoteAddress))
    throw new AgentError(403, 'forbidden', 'Only local callers are served.');
  if (request.headers['x-forwarded-for'] !== undefined) {
    throw new AgentError(
      400,
      'invalid_request',
      'Requests through a proxy are refused: call the endpoint directly.',
    );
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== IDENTITY_PATH)
    throw new AgentError(404, 'not_found', `The identity endpoint is ${IDENTITY_PATH}.`);
  if (request.method !== 'GET') throw new AgentError(405, 'invalid_request', 'Use GET.');
  const secret = request.headers['x-identity-header'];
  if (typeof secret !== 'string' || !constantTimeEqual(secret, options.header)) {
    throw new AgentError(
      401,
      'invalid_identity_header',
      'The X-IDENTITY-HEADER header is missing or wrong: send the IDENTITY_HEADER the agent printed.',
    );
  }
  const query = url.searchParams;
  if (query.get('api-version') !== API_VERSION) {
    throw new AgentError(
      400,
      'invalid_request',
      `api-version must be ${API_VERSION} (App Service's managed identity protocol).`,
    );
  }
  const resource = query.get('resource') ?? '';
  if (resource === '' || resource.length > MAX_RESOURCE_LENGTH) {
    throw new AgentError(
      400,
      'invalid_request',
      'The resource query parameter is required (for example https://vault.azure.net).',
    );
  }
  checkIdentity(query, options.clientId);
  const token = await options.tokens.token(resource);
  return {
    access_token: token.accessToken,
    expires_on: String(token.expiresOn),
    resource,
    token_type: 'Bearer',
    client_id: options.clientId,
  };
}

/** One agent holds one identity: a request may name it by client id, and no other. */
function checkIdentity(query: URLSearchParams, clientId: string): void {
  const asked = query.get('client_id');
  if (asked !== null && asked.toLowerCase() !== clientId.toLowerCase()) {
    throw new AgentError(
      400,
      'invalid_request',
      `This agent holds the identity with client id ${clientId} only.`,
    );
  }
  for (const other of ['principal_id', 'object_id', 'mi_res_id']) {
    if (query.has(other)) {
      throw new AgentError(
        400,
        'invalid_request',
        `This agent holds one identity: leave ${other} out, or name it by client_id ${clientId}.`,
      );
    }
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
