import type { ServerOptions } from 'node:https';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { ConnectionLimits } from '../config/types.js';
import { BadParameter } from '../errors/index.js';
import { type Authority, httpsOrigin, parseHostHeader } from '../lib/host.js';
import { tlsServerOptions } from '../tls/server-options.js';
import { registerRequestIds, stampRequestId } from './azure-headers.js';
import { clientErrorHandler, gracefulClose, serverTimeouts } from './connections.js';
import { azureError, registerErrorHandler } from './error-handler.js';
import { acceptEmptyJsonBodies } from './json-body.js';
import './types.js';

/** Every body Coffer accepts is small; routes that need more (restore) raise their own limit. */
const DEFAULT_BODY_LIMIT = 256 * 1024;

/**
 * The Fastify instance: HTTPS only (TLS 1.2+), strict JSON schemas (no type coercion: a
 * string is not a boolean), request logging that records method, path and status, never
 * headers, bodies or query strings; connection deadlines and limits, and `closeGracefully`,
 * which stops it within the shutdown deadline.
 */
export function createHttpServer(options: {
  cert: string;
  key: string;
  logLevel: string;
  limits: ConnectionLimits;
  /**
   * Answers an error Fastify raises before routing (a malformed URL): Fastify runs no hook for
   * these, so the audit log takes the reply here (audit-hooks.ts).
   */
  onFrameworkError?: (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    body: unknown,
  ) => Promise<void>;
}): { http: FastifyInstance; closeGracefully: () => Promise<void> } {
  const timeouts = serverTimeouts(options.limits);
  const app = Fastify({
    https: { ...tlsServerOptions(options.cert, options.key), ...timeouts.https } as ServerOptions,
    ...timeouts.fastify,
    clientErrorHandler: clientErrorHandler(options.limits),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Object names may be 127 characters; the router's default limit of 100 would cut them off.
    // `/keys/k//sign` (an empty version, as the SDK sends for the latest) means `/keys/k/sign`.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 256 },
    // Errors raised before routing (a malformed URL, a parameter past the limit) also get Azure's error JSON.
    frameworkErrors: (error, request, reply) => {
      stampRequestId(request, reply as FastifyReply);
      const body = azureError('BadParameter', `The request URL is not valid (${error.code}).`);
      if (options.onFrameworkError) void options.onFrameworkError(request, reply as FastifyReply, 400, body);
      else void (reply as FastifyReply).code(400).send(body);
    },
    logController: new LogController({ disableRequestLogging: true }),
    // gracefulClose answers requests that arrive while closing, in Azure's error JSON.
    return503OnClosing: false,
    logger: {
      level: options.logLevel,
      serializers: { req: () => ({}), res: () => ({}) },
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }) as unknown as FastifyInstance;

  app.server.maxConnections = options.limits.maxConnections;
  const closeGracefully = gracefulClose(app, options.limits.shutdownTimeoutMs);

  app.decorateRequest('baseUrl', '');
  // Set on every request below; null until then (an object here would be shared by all requests).
  app.decorateRequest('authority', null as unknown as Authority);
  app.decorateRequest('clientAddress', '');
  app.addHook('onRequest', async (request, reply) => {
    const authority = parseHostHeader(request.headers.host);
    // The raw header is never echoed: it is exactly what an attacker chose.
    if (!authority)
      throw new BadParameter(
        'The Host header must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port from 1 to 65535.',
      );
    request.authority = authority;
    request.baseUrl = httpsOrigin(authority);
    // A parameter given twice arrives as a list; every route reads each parameter as one string.
    const repeated = Object.entries(request.query as Record<string, unknown>).find(
      ([, value]) => typeof value !== 'string',
    );
    if (repeated)
      throw new BadParameter(
        `The query parameter '${repeated[0].slice(0, 40)}' is given more than once. Give each parameter once.`,
      );
    reply.header('strict-transport-security', 'max-age=31536000');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
  });
  // A line per request only at debug: the audit log records every request already (with the
  // caller and outcome), and this line, written synchronously, cost more CPU per secret get at
  // one client than the audit record (bench/README.md, "The audit log's cost"). Registered only
  // when it can write: otherwise its line would still be built, and its hook run, per request.
  if (options.logLevel === 'debug' || options.logLevel === 'trace')
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug(
        {
          requestId: request.requestId,
          method: request.method,
          path: request.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
    });
  registerRequestIds(app);
  acceptEmptyJsonBodies(app);
  registerErrorHandler(app);
  return { http: app, closeGracefully };
}
