import type { ServerOptions } from 'node:https';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { tlsServerOptions } from '../tls/server-options.js';
import { azureError, registerErrorHandler } from './error-handler.js';
import './types.js';

/** Every body Coffer accepts is small; routes that need more (restore) raise their own limit. */
const DEFAULT_BODY_LIMIT = 256 * 1024;

/**
 * The Fastify instance: HTTPS only (TLS 1.2+), strict JSON schemas (no type coercion: a
 * string is not a boolean), request logging that records method, path and status, never
 * headers, bodies or query strings.
 */
export function createHttpServer(options: {
  cert: string;
  key: string;
  logLevel: string;
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
}): FastifyInstance {
  const app = Fastify({
    https: tlsServerOptions(options.cert, options.key) as ServerOptions,
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Object names may be 127 characters; the router's default limit of 100 would cut them off.
    // `/keys/k//sign` (an empty version, as the SDK sends for the latest) means `/keys/k/sign`.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 256 },
    // Errors raised before routing (a malformed URL, a parameter past the limit) also get Azure's error JSON.
    frameworkErrors: (error, request, reply) => {
      const body = azureError('BadParameter', `The request URL is not valid (${error.code}).`);
      if (options.onFrameworkError) void options.onFrameworkError(request, reply as FastifyReply, 400, body);
      else void (reply as FastifyReply).code(400).send(body);
    },
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    logger: {
      level: options.logLevel,
      serializers: { req: () => ({}), res: () => ({}) },
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  }) as unknown as FastifyInstance;

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
  return app;
}
