import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomKey } from '../crypto/aes-gcm.js';

/**
 * Dev mode only: the unseal key lives in a file in the data dir, so a dev server can start
 * unattended. Anybody who can read the data dir can read every secret: NOT FOR PRODUCTION.
 */
export function readOrCreateDevUnsealKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32)
      throw new Error(`${file} does not hold a 32-byte unseal key; delete the dev data dir to start over`);
    return key;
  }
  const key = randomKey();
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
