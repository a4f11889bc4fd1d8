import type { ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { type EndpointPolicy, checkLiteralHost, guardedLookup } from './endpoint-guard.js';

export interface WebhookAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface WebhookClientOptions {
  policy: EndpointPolicy;
  timeoutMs: number;
  /** Extra trusted CAs (PEM), added to the system's roots. */
  extraCa?: string;
}

/** Bodies read from an endpoint are small answers (a validation response): more is cut off. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One HTTPS request to a webhook with a deadline over the whole exchange (connect, TLS, send,
 * answer). Certificates are verified (TLS 1.2+); redirects are not followed (a 3xx is a failure),
 * so an endpoint cannot bounce a delivery to an address the guard would refuse.
 */
export function createWebhookClient(options: WebhookClientOptions) {
  const ca = options.extraCa ? [...rootCertificates, options.extraCa] : undefined;
  const lookup = guardedLookup(options.policy);
  const inFlight = new Set<ClientRequest>();

  function send(
    endpoint: string,
    method: 'POST' | 'OPTIONS',
    headers: Record<string, string>,
    body?: string,
  ): Promise<WebhookAnswer> {
    const url = new URL(endpoint);
    checkLiteralHost(options.policy, url);
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
      const req = httpsRequest(url, {
        method,
        headers: {
          ...headers,
          'user-agent': 'Coffer-EventGrid/1.0',
          ...(payload && { 'content-length': String(payload.length) }),
        },
        agent: false,
        ca,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
        lookup,
      });
      inFlight.add(req);
      req.on('close', () => inFlight.delete(req));
      const deadline = setTimeout(
        () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      req.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        res.on('error', (error) => {
          clearTimeout(deadline);
          reject(error);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(payload);
    });
  }

  return {
    send,
    /** Ends every request in flight at once (seal, shutdown): each fails and is tried again later. */
    abortAll(): void {
      for (const req of inFlight) req.destroy(new Error('the server is stopping'));
    },
  };
}

export type WebhookClient = ReturnType<typeof createWebhookClient>;

/** A failure as stored and shown: the error's kind and message, never a body the endpoint sent. */
export function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return (code ? `${code}: ${message}` : message).slice(0, 300);
}
