import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BadParameter } from '../../errors/index.js';
import type { AesAlgorithm } from './algorithms.js';
import type { DecryptOptions, EncryptOptions, EncryptResult } from './provider.js';

/** AES for oct keys: GCM, CBC without padding, CBC with PKCS#7, and RFC 3394 key wrap. */

type AesGcmAlgorithm = Extract<AesAlgorithm, { scheme: 'aes-gcm' }>;

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const BLOCK_BYTES = 16;
// RFC 3394's default initial value: unwrapping checks it, which is what authenticates the key.
const KEY_WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

const DECRYPTION_FAILED =
  'Decryption failed: the value, iv, tag or aad does not match what this key and algorithm produced.';

function checkLength(what: string, value: Buffer, bytes: number, alg: AesAlgorithm): Buffer {
  if (value.length !== bytes) throw new BadParameter(`${alg.name} needs a ${bytes}-byte ${what}.`);
  return value;
}

/**
 * For algorithms that take no iv, aad or tag (RSA, AES key wrap): a caller who sends one believes
 * it matters, so it is refused rather than silently ignored.
 */
export function rejectSymmetricInputs(alg: { name: string }, options: DecryptOptions): void {
  if (options.iv !== undefined || options.aad !== undefined || options.tag !== undefined) {
    throw new BadParameter(`${alg.name} takes no iv, aad or tag; send only alg and value.`);
  }
}

function rejectGcmOnlyInputs(alg: AesAlgorithm, options: DecryptOptions): void {
  // Silently ignoring aad would let a caller believe CBC authenticated it.
  if (options.aad !== undefined || options.tag !== undefined) {
    throw new BadParameter(`${alg.name} takes no aad or tag; only the GCM algorithms authenticate.`);
  }
}

export function aesEncrypt(
  key: Buffer,
  alg: AesAlgorithm,
  plaintext: Buffer,
  options: EncryptOptions,
): EncryptResult {
  if (alg.scheme === 'aes-gcm') {
    // GCM fails badly when an iv repeats under one key (the XOR of two plaintexts leaks, and tags
    // can be forged), and a caller may know another caller's iv: only the service chooses it.
    if (options.iv !== undefined) {
      throw new BadParameter(
        `${alg.name} encrypt takes no iv: the service chooses a fresh random iv for every encryption and returns it with the ciphertext. Send that iv with decrypt.`,
      );
    }
    const iv = randomBytes(GCM_IV_BYTES);
    const cipher = createCipheriv(alg.cipher, key, iv);
    if (options.aad !== undefined) cipher.setAAD(options.aad);
    const result = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { result, iv, tag: cipher.getAuthTag() };
  }
  if (alg.scheme === 'aes-kw') throw new BadParameter(`${alg.name} is a key-wrap algorithm; use wrapKey.`);
  rejectGcmOnlyInputs(alg, options);
  // CBC keeps a caller's iv: the SDKs may send one (the .NET SDK always does) and Managed HSM takes
  // it. docs/security.md says what a caller-chosen CBC iv allows and why GCM is the better choice.
  const iv = checkLength('iv', options.iv ?? randomBytes(BLOCK_BYTES), BLOCK_BYTES, alg);
  const padded = alg.scheme === 'aes-cbc-pad';
  if (!padded && plaintext.length % BLOCK_BYTES !== 0) {
    throw new BadParameter(
      `${alg.name} does not pad: the plaintext must be a multiple of 16 bytes. Use ${alg.name}PAD for other lengths.`,
    );
  }
  const cipher = createCipheriv(alg.cipher, key, iv).setAutoPadding(padded);
  return { result: Buffer.concat([cipher.update(plaintext), cipher.final()]), iv };
}

export function aesDecrypt(
  key: Buffer,
  alg: AesAlgorithm,
  ciphertext: Buffer,
  options: DecryptOptions,
): Buffer {
  if (alg.scheme === 'aes-kw') throw new BadParameter(`${alg.name} is a key-wrap algorithm; use unwrapKey.`);
  if (options.iv === undefined) {
    throw new BadParameter(`${alg.name} decryption needs the iv that encrypt returned.`);
  }
  return alg.scheme === 'aes-gcm'
    ? gcmDecrypt(key, alg, ciphertext, options.iv, options)
    : cbcDecrypt(key, alg, ciphertext, options.iv, options);
}

function gcmDecrypt(
  key: Buffer,
  alg: AesGcmAlgorithm,
  ciphertext: Buffer,
  iv: Buffer,
  options: DecryptOptions,
): Buffer {
  checkLength('iv', iv, GCM_IV_BYTES, alg);
  if (options.tag === undefined) {
    throw new BadParameter(`${alg.name} decryption needs the tag that encrypt returned.`);
  }
  const tag = checkLength('tag', options.tag, GCM_TAG_BYTES, alg);
  try {
    const decipher = createDecipheriv(alg.cipher, key, iv);
    decipher.setAuthTag(tag);
    if (options.aad !== undefined) decipher.setAAD(options.aad);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new BadParameter(DECRYPTION_FAILED);
  }
}

function cbcDecrypt(
  key: Buffer,
  alg: AesAlgorithm,
  ciphertext: Buffer,
  iv: Buffer,
  options: DecryptOptions,
): Buffer {
  checkLength('iv', iv, BLOCK_BYTES, alg);
  rejectGcmOnlyInputs(alg, options);
  const padded = alg.scheme === 'aes-cbc-pad';
  if (ciphertext.length % BLOCK_BYTES !== 0 || (padded && ciphertext.length === 0)) {
    throw new BadParameter(
      `${alg.name} ciphertext must be a${padded ? ' non-empty' : ''} multiple of 16 bytes.`,
    );
  }
  try {
    const decipher = createDecipheriv(alg.cipher, key, iv).setAutoPadding(padded);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // Only a PKCS#7 padding check can fail here; CBC without padding cannot detect a wrong key.
    throw new BadParameter(DECRYPTION_FAILED);
  }
}

function requireKeyWrap(alg: AesAlgorithm): void {
  if (alg.scheme !== 'aes-kw') throw new BadParameter(`${alg.name} is not a key-wrap algorithm.`);
}

export function aesWrap(key: Buffer, alg: AesAlgorithm, keyToWrap: Buffer): Buffer {
  requireKeyWrap(alg);
  if (keyToWrap.length < 16 || keyToWrap.length % 8 !== 0) {
    throw new BadParameter(`${alg.name} wraps keys of at least 16 bytes in multiples of 8 bytes (RFC 3394).`);
  }
  const cipher = createCipheriv(alg.cipher, key, KEY_WRAP_IV);
  return Buffer.concat([cipher.update(keyToWrap), cipher.final()]);
}

export function aesUnwrap(key: Buffer, alg: AesAlgorithm, wrapped: Buffer): Buffer {
  requireKeyWrap(alg);
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) {
    throw new BadParameter(`${alg.name} wrapped keys are at least 24 bytes, in multiples of 8 bytes.`);
  }
  try {
    const decipher = createDecipheriv(alg.cipher, key, KEY_WRAP_IV);
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    throw new BadParameter('Unwrap failed: the value was not wrapped with this key and algorithm.');
  }
}
