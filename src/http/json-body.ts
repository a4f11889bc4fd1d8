import type { FastifyInstance } from 'fastify';
import { BadParameter } from '../errors/index.js';

/**
 * Deeper than any Key Vault or Resource Manager body (a certificate policy's SANs sit five
 * levels down). Code that walks a body recursively (String(), JSON.stringify when a record is
 * stored, deep comparisons) exhausts the stack somewhere past a few thousand levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON bodies through Fastify's own parser (prototype-poisoning checks included), except that an
 * empty body is no body, as Key Vault treats it: clients send `Content-Type: application/json`
 * on bodiless requests (a DELETE), and Fastify would refuse those as invalid JSON. A route that
 * needs a body still refuses its absence through its schema. A body nested deeper than
 * MAX_JSON_DEPTH is refused before it is parsed.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else if (nestedDeeperThan(body as string, MAX_JSON_DEPTH))
      done(
        new BadParameter(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`),
        undefined,
      );
    else void parseJson(request, body as string, done);
  });
}

/** Whether JSON text opens more than `limit` arrays and objects inside each other (strings skipped). */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return false;
}
