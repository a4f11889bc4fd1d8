import type { FastifyError, FastifyInstance } from 'fastify';
import { CofferError } from '../errors/index.js';
import { OAuthError } from '../identity/oauth-error.js';

/**
 * The single error table: typed errors become Azure's error JSON with their status; Fastify's
 * own client errors (bad JSON, bad schema, body too large) become 4xx with a message that says
 * what to fix; anything else is a bare 500 that reveals nothing, logged without request data.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof OAuthError) {
      return reply.code(error.status).header('cache-control', 'no-store').send({
        error: error.error,
        error_description: error.description,
        error_codes: [],
        timestamp: new Date().toISOString(),
      });
    }
    if (error instanceof CofferError) {
      return reply
        .code(error.status)
        .headers(error.headers)
        .send(azureError(error.code, error.message, error.innerCode));
    }
    const clientError = fromFastify(error as FastifyError);
    if (clientError)
      return reply.code(clientError.status).send(azureError(clientError.code, clientError.message));
    request.log.error(
      { err: { type: error.name, message: error.message, stack: error.stack } },
      'internal error',
    );
    return reply
      .code(500)
      .send(
        azureError('InternalServerError', 'The server hit an internal error. The request may be retried.'),
      );
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        azureError(
          'NotFound',
          `There is no operation at ${request.method} ${request.url.split('?')[0]}. Check the path against the Key Vault REST API.`,
        ),
      );
  });
}

export function azureError(code: string, message: string, innerCode?: string) {
  return { error: innerCode ? { code, message, innererror: { code: innerCode } } : { code, message } };
}

function fromFastify(error: FastifyError): { status: number; code: string; message: string } | undefined {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const [first] = error.validation;
    const unknown = first?.keyword === 'additionalProperties' ? first.params.additionalProperty : undefined;
    if (typeof unknown === 'string') {
      // Name the field: a misspelling (`ip_addresses` for `ipAddresses`) is the usual cause.
      const parent = first!.instancePath || '/';
      return {
        status: 400,
        code: 'BadParameter',
        message: `The ${where} has an unknown field '${unknown.slice(0, 100)}' in ${parent}. Check its name against the Key Vault REST API: names are case-sensitive.`,
      };
    }
    return {
      status: 400,
      code: 'BadParameter',
      message: `The ${where} is not valid: ${error.message.replace(/^(body|querystring|params)\/?/, '')}.`,
    };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'BadParameter', message: 'The request body is not valid JSON.' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'RequestEntityTooLarge', message: 'The request body is too large.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        code: 'UnsupportedMediaType',
        message: 'Send the request body as application/json.',
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        code: 'BadParameter',
        message: 'The Content-Length header does not match the body.',
      };
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, code: 'BadRequest', message: 'The request is not valid.' };
  }
  return undefined;
}
