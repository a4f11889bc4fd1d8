import './loopback-dns.js';
import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

/**
 * A plain HTTPS request, for what the SDK cannot send: malformed bodies, missing api-version,
 * wrong tokens, bad headers. Trusts the test CA through NODE_EXTRA_CA_CERTS like the SDK does.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** The client's own address, e.g. 127.0.0.2 to test network rules over a second loopback address. */
    localAddress?: string;
    /** The TLS server name to send and verify, when a test's Host header is not one (a forged Host). */
    servername?: string;
    /** A connection of its own (no keep-alive reuse): lands on any worker of a `--workers N` server. */
    freshConnection?: boolean;
    /** Gives up (an error) when no answer came in this time. */
    timeoutMs?: number;
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.localAddress,
        servername: options.servername,
        ...(options.freshConnection && { agent: false }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text,
            json: () => JSON.parse(text),
          });
        });
      },
    );
    request.on('error', reject);
    if (options.timeoutMs)
      request.setTimeout(options.timeoutMs, () => request.destroy(new Error('no answer in time')));
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

/**
 * A request with a bearer token and, when given, a JSON body (no content type without one);
 * `connection` as rawRequest takes it (a connection of its own, a deadline).
 */
export function bearerRequest(
  url: string,
  token: string,
  method: string,
  body?: unknown,
  connection: { freshConnection?: boolean; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return rawRequest(url, {
    ...connection,
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A client-credentials token straight from the token endpoint. */
export async function fetchToken(
  authorityHost: string,
  tenantId: string,
  clientId: string,
  clientSecret: string,
  scope = 'https://vault.localhost/.default',
): Promise<string> {
  const response = await rawRequest(
    `${authorityHost}/${tenantId}/oauth2/v2.0/token`,
    clientCredentialsRequest(clientId, clientSecret, scope),
  );
  if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${response.text}`);
  return (response.json() as { access_token: string }).access_token;
}

/** The options of a client-credentials token request (POST, form-encoded). */
export function clientCredentialsRequest(
  clientId: string,
  clientSecret: string,
  scope = 'https://vault.localhost/.default',
) {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } as Record<string, string>,
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope,
    }).toString(),
  };
}

/** A token for the dev administrator whose coordinates a dev server printed. */
export function adminToken(
  facts: Pick<DevFactsLike, 'authorityHost' | 'tenantId' | 'clientId' | 'clientSecret'>,
): Promise<string> {
  return fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
}

interface DevFactsLike {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}
