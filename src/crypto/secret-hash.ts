import { createHmac, randomBytes } from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

/**
 * Salted hashes of high-entropy credentials (client secrets: 240 random bits). A fast keyed
 * hash is the right tool here, unlike for human passwords: nothing can brute-force 2^240, and
 * the token endpoint must stay fast.
 */
export interface SecretHash {
  salt: string;
  hash: string;
}

export function hashSecret(secret: string, salt: Buffer = randomBytes(16)): SecretHash {
  return { salt: salt.toString('base64'), hash: digest(secret, salt) };
}

export function verifySecret(secret: string, stored: SecretHash): boolean {
  return constantTimeEqual(digest(secret, Buffer.from(stored.salt, 'base64')), stored.hash);
}

function digest(secret: string, salt: Buffer): string {
  return createHmac('sha256', salt).update(secret, 'utf8').digest('base64');
}
