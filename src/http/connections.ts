import { STATUS_CODES } from 'node:http';
import net, { type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ConnectionLimits } from '../config/types.js';
import { azureError } from './error-handler.js';

/**
 * Connection deadlines and a graceful close with a deadline (CONTRACT section 2). Node enforces
 * the header and whole-request deadlines from a timer that runs every `connectionsCheckingInterval`
 * (30 s by default), so that interval is tied to the shortest deadline.
 */
export function serverTimeouts(limits: ConnectionLimits) {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    /** For `https.createServer` (Fastify's `https` option). */
    https: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(shortest / 4))),
      // Before any HTTP byte, a connection must at least finish its TLS handshake in time.
      handshakeTimeout: limits.headersTimeoutMs,
    },
    /** For Fastify's own options, which it copies onto the server after creating it. */
    fastify: { requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs },
  };
}

/**
 * Node writes some answers itself, before any route runs: 408 when a deadline passes, 431 when
 * the headers are too large, 400 when the bytes are not HTTP. They get Azure's error JSON too.
 */
export function clientErrorHandler(limits: ConnectionLimits) {
  return function handleClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket) {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const answer = clientErrorAnswer(error.code, limits);
    this.log.debug({ code: error.code, status: answer.status }, 'client error');
    // As Node does: never write into the middle of a response already under way.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(azureError(answer.code, answer.message));
      socket.write(
        [
          `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}`,
          'Content-Type: application/json; charset=utf-8',
          `Content-Length: ${Buffer.byteLength(body)}`,
          'Connection: close',
          '',
          body,
        ].join('\r\n'),
      );
    }
    socket.destroy(error);
  };
}

function clientErrorAnswer(code: string | undefined, limits: ConnectionLimits) {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      code: 'RequestTimeout',
      message: `The request did not arrive in time: send the headers within ${limits.headersTimeoutMs / 1000} s and the whole request within ${limits.requestTimeoutMs / 1000} s.`,
    };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'RequestHeaderFieldsTooLarge',
      message: 'The request headers are too large (16 KB at most). Send fewer or shorter headers.',
    };
  }
  return { status: 400, code: 'BadRequest', message: 'The request is not valid HTTP/1.1.' };
}

/**
 * Stops the server within a deadline. At once: no new connections; every response sent from now
 * on carries `Connection: close`, and a request that arrives on an open connection is answered
 * 503 with Retry-After, so each busy keep-alive client learns to close by its next answer.
 * After a short grace (or as soon as no connection is left), idle connections are ended and the
 * rest finish their requests; connections still open at the deadline are destroyed.
 */
export function gracefulClose(app: FastifyInstance, shutdownTimeoutMs: number) {
  let closing = false;
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    return reply
      .code(503)
      .header('retry-after', '5')
      .send(azureError('ServiceUnavailable', 'The server is shutting down. Retry in a moment.'));
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  return async function close(): Promise<void> {
    closing = true;
    const deadline = setTimeout(() => {
      app.log.warn({ deadlineMs: shutdownTimeoutMs }, 'shutdown deadline reached: closing open connections');
      app.server.closeAllConnections();
    }, shutdownTimeoutMs);
    try {
      // The listening socket only. The HTTP server's own close also ends idle keep-alive
      // connections at once, which resets any client whose next request is already on its way.
      net.Server.prototype.close.call(app.server);
      await untilNoConnections(app.server, Math.min(IDLE_GRACE_MS, shutdownTimeoutMs));
      await app.close();
    } finally {
      clearTimeout(deadline);
    }
  };
}

/** Long enough for a busy client, even a distant one, to send one more request and read `Connection: close`. */
const IDLE_GRACE_MS = 500;

async function untilNoConnections(server: net.Server, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const open = await new Promise<number>((resolve) =>
      server.getConnections((error, count) => resolve(error ? 0 : count)),
    );
    if (open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
