import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { randomKey } from '../crypto/aes-gcm.js';

/**
 * Dev mode only: the unseal key lives in a file in the data dir, so a dev server can start
 * unattended. Anybody who can read the data dir can read every secret: NOT FOR PRODUCTION.
 */

/** The key in `file`, or undefined when there is no such file. */
export function readDevUnsealKey(file: string): Buffer | undefined {
  if (!existsSync(file)) return undefined;
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32)
    throw new Error(
      `${file} does not hold a 32-byte unseal key. Restore it from a backup of the data dir; only if the data dir holds nothing you need, delete the whole data dir to start over.`,
    );
  return key;
}

/**
 * A new key, on disk before it is used: written to a temporary file, flushed, then renamed, so a
 * crash leaves either no key file or a whole one, never a torn one that could not open the store.
 */
export function createDevUnsealKey(file: string): Buffer {
  const key = randomKey();
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, `${key.toString('base64')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    // A full disk: leave nothing behind, not even a partial temporary file.
    rmSync(temporary, { force: true });
    throw error;
  }
  const directory = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
  return key;
}

export function removeDevUnsealKey(file: string): void {
  rmSync(file, { force: true });
}
