import { BadParameter } from '../../errors/index.js';

export const MAX_PAGE_SIZE = 25;

export interface PageRequest {
  limit: number;
  after: string | undefined;
}

/**
 * `maxresults` (1-25) and the opaque `$skiptoken` of Key Vault's paged lists. The token is the
 * last key of the previous page; it is checked against `keyPattern` so a forged token cannot
 * steer a listing outside its prefix.
 */
export function parsePageRequest(query: Record<string, unknown>, keyPattern: RegExp): PageRequest {
  const raw = query.maxresults;
  let limit = MAX_PAGE_SIZE;
  if (raw !== undefined && raw !== '') {
    limit = Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new BadParameter(`maxresults must be a whole number from 1 to ${MAX_PAGE_SIZE}.`);
    }
  }
  const token = query.$skiptoken;
  if (token === undefined || token === '') return { limit, after: undefined };
  const after = typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!keyPattern.test(after))
    throw new BadParameter('The $skiptoken is not valid. Follow nextLink exactly as it was returned.');
  return { limit, after };
}

/** Listing options a next page keeps, as Key Vault's nextLink does. */
const KEPT_OPTIONS = ['includePending'] as const;

/** The absolute URL of the next page, or null on the last page (as Key Vault answers). */
export function nextLink(
  baseUrl: string,
  path: string,
  query: Record<string, unknown>,
  limit: number,
  next: string | undefined,
): string | null {
  if (next === undefined) return null;
  const params = new URLSearchParams({ 'api-version': String(query['api-version']) });
  params.set('$skiptoken', Buffer.from(next, 'utf8').toString('base64url'));
  params.set('maxresults', String(limit));
  for (const option of KEPT_OPTIONS) {
    if (typeof query[option] === 'string') params.set(option, query[option]);
  }
  return `${baseUrl}${path}?${params.toString()}`;
}
