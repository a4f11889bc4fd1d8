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
    const iv = checkLength('iv', options.iv ?? randomBytes(GCM_IV_BYTES), GCM_IV_BYTES, alg);
    const cipher = createCipheriv(alg.cipher, key, iv);
    if (options.aad !== undefined) cipher.setAAD(options.aad);
    const result = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { result, iv, tag: cipher.getAuthTag() };
  }
  if (alg.scheme === 'aes-kw') throw new BadParameter(`${alg.name} is a key-wrap algorithm; use wrapKey.`);
  rejectGcmOnlyInputs(alg, options);
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
