import type { FastifyInstance } from 'fastify';

export const FORM = 'application/x-www-form-urlencoded';
/** A sign-in form or token request is small: anything larger is not one. */
export const FORM_BODY_LIMIT = 64 * 1024;

/**
 * Routes registered in `scope` (and only there: Fastify scopes parsers to the plugin) read HTML
 * and OAuth forms: the token and authorize endpoints and the web console. Everywhere else a body
 * is JSON, so no data-plane route ever meets a form's shape. Every field is a string (a name
 * given twice keeps its last value), never a list or an object.
 */
export function acceptForms(scope: FastifyInstance): void {
  scope.addContentTypeParser(
    FORM,
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
}
