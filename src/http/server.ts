import type { ServerOptions } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { ConnectionLimits } from '../config/types.js';
import { tlsServerOptions } from '../tls/server-options.js';
import { clientErrorHandler, gracefulClose, serverTimeouts } from './connections.js';
import { azureError, registerErrorHandler } from './error-handler.js';
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
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply)
        .code(400)
        .send(azureError('BadParameter', `The request URL is not valid (${error.code}).`));
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
  app.decorateRequest('clientAddress', '');
  app.addHook('onRequest', async (request, reply) => {
    request.baseUrl = `https://${request.host}`;
    reply.header('strict-transport-security', 'max-age=31536000');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  registerErrorHandler(app);
  return { http: app, closeGracefully };
}
