import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';

/** How the audit record names a scrape made with the scrape token (no principal behind it). */
export const SCRAPE_TOKEN_CALLER = 'coffer-metrics-scrape-token';

/**
 * Whether `authorization` is `Bearer {the scrape token}`. Only the token's SHA-256 is held, and
 * the digests are compared in constant time, so neither the token nor how much of it matched
 * can be learned from the server. A JWT never matches: it then goes to the principal check.
 */
export function scrapeTokenMatches(
  expectedSha256: Buffer | undefined,
  authorization: string | undefined,
): boolean {
  if (!expectedSha256 || authorization === undefined) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return false;
  const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
  return constantTimeEqual(presented, expectedSha256);
}
