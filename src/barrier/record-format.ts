import { openAesGcm, sealAesGcm } from '../crypto/aes-gcm.js';

/**
 * Every stored value is `version (1 byte) | term (4 bytes, big-endian) | nonce | ciphertext | tag`.
 * The additional data binds the header and the record's storage path, so a value copied to
 * another path, or relabelled with another term, fails to decrypt instead of being returned.
 */
const FORMAT_VERSION = 1;
const HEADER_BYTES = 5;

export function encryptRecord(path: string, term: number, key: Buffer, plaintext: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(FORMAT_VERSION, 0);
  header.writeUInt32BE(term, 1);
  return Buffer.concat([header, sealAesGcm(key, plaintext, additionalData(header, path))]);
}

/** The term a stored record was written with, or undefined if it is not a record at all. */
export function recordTerm(stored: Buffer): number | undefined {
  if (stored.length < HEADER_BYTES || stored.readUInt8(0) !== FORMAT_VERSION) return undefined;
  return stored.readUInt32BE(1);
}

export function decryptRecord(path: string, key: Buffer, stored: Buffer): Buffer | undefined {
  const header = stored.subarray(0, HEADER_BYTES);
  return openAesGcm(key, stored.subarray(HEADER_BYTES), additionalData(header, path));
}

function additionalData(header: Buffer, path: string): Buffer {
  return Buffer.concat([header, Buffer.from(path, 'utf8')]);
}
