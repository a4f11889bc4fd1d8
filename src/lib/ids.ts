import { randomUUID } from 'node:crypto';
import { publicRandomBytes } from './public-random.js';

/** A Key Vault object version: 32 lowercase hex characters, as Azure issues them. */
export function newVersionId(): string {
  return publicRandomBytes(16).toString('hex');
}

/** An object id, tenant id or client id: a random (v4) UUID. */
export function newUuid(): string {
  return randomUUID();
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
