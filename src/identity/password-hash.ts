import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BadParameter } from '../errors/index.js';
import { newUuid } from '../lib/ids.js';
import type { PasswordHashRecord } from './types.js';

/** NIST SP 800-63B asks for at least 8; an administrator's password guards every vault, so 12. */
export const PASSWORD_MIN_LENGTH = 12;
const PASSWORD_MAX_LENGTH = 256;

// scrypt at N=2^15, r=8: 32 MiB and tens of milliseconds per guess, run off the event loop.
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128 * N * r bytes; Node's default (32 MiB) is exactly at the edge.
    const maxmem = 256 * cost.N * cost.r;
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...cost, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export function checkPasswordPolicy(password: unknown): string {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN_LENGTH) {
    throw new BadParameter(`password must be at least ${PASSWORD_MIN_LENGTH} characters long.`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new BadParameter(`password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);
  }
  return password;
}

export async function hashPassword(password: string, changedAt: string): Promise<PasswordHashRecord> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, COST);
  return {
    id: newUuid(),
    salt: salt.toString('base64'),
    hash: hash.toString('base64'),
    ...COST,
    changedAt,
  };
}

/** Always does the full work, even for a password too long to be right: every check costs the same. */
export async function verifyPassword(password: string, stored: PasswordHashRecord): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await derive(
    password.slice(0, PASSWORD_MAX_LENGTH + 1),
    Buffer.from(stored.salt, 'base64'),
    stored,
  );
  const equal = actual.length === expected.length && timingSafeEqual(actual, expected);
  return equal && password.length <= PASSWORD_MAX_LENGTH;
}
