import { lookup as dnsLookup } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';

/**
 * A tiny HTTPS client. Global fetch cannot take a custom CA on Node 20, and the dev server's
 * certificate comes from its own CA, so requests go through node:https with `ca` set.
 */
export interface HttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM text of an extra CA to trust on top of the bundled roots. */
  caPem?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  json: unknown;
  /** True when there was a body but it did not parse as JSON. */
  notJson: boolean;
}

/** A request that never got an HTTP answer: refused, unresolvable, TLS failure, timeout. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * One HTTPS request with the options every call shares (extra CA, loopback for *.localhost, no
 * pooling, an inactivity timeout); `onResponse` settles the promise from the answer.
 */
function exchange<T>(
  req: HttpRequest,
  baseHeaders: Record<string, string>,
  onResponse: (
    incoming: IncomingMessage,
    resolve: (value: T) => void,
    fail: (error: NodeJS.ErrnoException) => void,
  ) => void,
): Promise<T> {
  const target = new URL(req.url);
  const headers: Record<string, string> = { ...baseHeaders, ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void =>
      reject(new TransportError(error.code ?? 'UNKNOWN', target.origin, error.message));
    const outgoing = request(
      target,
      {
        method: req.method,
        headers,
        // A custom `ca` replaces the default store, so the bundled roots are listed again.
        ...(req.caPem === undefined ? {} : { ca: [...rootCertificates, req.caPem] }),
        lookup: loopbackForLocalhost,
        agent: false,
        timeout: req.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      },
      (incoming) => onResponse(incoming, resolve, fail),
    );
    outgoing.on('timeout', () =>
      outgoing.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    outgoing.on('error', fail);
    outgoing.end(req.body);
  });
}

export function sendJson(req: HttpRequest): Promise<HttpResponse> {
  return exchange<HttpResponse>(req, { accept: 'application/json' }, (incoming, resolve, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        incoming.destroy();
        fail(Object.assign(new Error('answer too large'), { code: 'ETOOBIG' }));
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('error', fail);
    incoming.on('end', () => resolve(toResponse(incoming.statusCode ?? 0, Buffer.concat(chunks))));
  });
}

/**
 * A request whose answer is a stream (a whole backup): resolves with the response as soon as its
 * headers arrive. A 2xx answer is the caller's to read; any other is read here into an
 * HttpResponse, as small as sendJson's. The timeout applies to inactivity, not to the total.
 */
export function openStream(
  req: HttpRequest,
): Promise<{ ok: true; incoming: IncomingMessage } | { ok: false; response: HttpResponse }> {
  return exchange(req, {}, (incoming, resolve, fail) => {
    const status = incoming.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      resolve({ ok: true, incoming });
      return;
    }
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.length < 1024 && chunks.push(chunk));
    incoming.on('error', fail);
    incoming.on('end', () => resolve({ ok: false, response: toResponse(status, Buffer.concat(chunks)) }));
  });
}

function toResponse(status: number, body: Buffer): HttpResponse {
  const text = body.toString('utf8');
  if (text.trim() === '') return { status, json: undefined, notJson: false };
  try {
    return { status, json: JSON.parse(text), notJson: false };
  } catch {
    return { status, json: undefined, notJson: true };
  }
}

/**
 * Node's resolver does not map `*.localhost` to loopback (CONTRACT section 3), so vault host
 * names of a local server would not resolve without this.
 */
const loopbackForLocalhost: LookupFunction = (hostname, options, callback) => {
  if (!hostname.toLowerCase().endsWith('.localhost')) {
    dnsLookup(hostname, options, callback);
    return;
  }
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};
