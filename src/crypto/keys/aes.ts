import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BadParameter } from '../../errors/index.js';
import type { AesAlgorithm } from './algorithms.js';
import type { DecryptOptions, EncryptOptions, EncryptResult } from './provider.js';

/** AES for oct keys: GCM, CBC without padding, CBC with PKCS#7, and RFC 3394 key wrap. */

export type AesGcmAlgorithm = Extract<AesAlgorithm, { scheme: 'aes-gcm' }>;

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const BLOCK_BYTES = 16;
// RFC 3394's default initial value: unwrapping checks it, which is what authenticates the key.
const KEY_WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

export const UNWRAP_FAILED = 'Unwrap failed: the value was not wrapped with this key and algorithm.';
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

/**
 * Where the AES arithmetic runs: node:crypto over the key's bytes (software keys), or a PKCS#11
 * token over a key that never leaves it. Every check on the caller's input is made once, below,
 * whichever engine runs the cipher. Failed authentication or padding is `undefined`.
 */
export interface AesEngine {
  gcmEncrypt(
    alg: AesGcmAlgorithm,
    iv: Buffer,
    aad: Buffer | undefined,
    plaintext: Buffer,
  ): Promise<{ result: Buffer; tag: Buffer }>;
  gcmDecrypt(
    alg: AesGcmAlgorithm,
    iv: Buffer,
    aad: Buffer | undefined,
    tag: Buffer,
    ciphertext: Buffer,
  ): Promise<Buffer | undefined>;
  cbcEncrypt(alg: AesAlgorithm, iv: Buffer, padded: boolean, plaintext: Buffer): Promise<Buffer>;
  cbcDecrypt(alg: AesAlgorithm, iv: Buffer, padded: boolean, ciphertext: Buffer): Promise<Buffer | undefined>;
  wrap(alg: AesAlgorithm, keyToWrap: Buffer): Promise<Buffer>;
  unwrap(alg: AesAlgorithm, wrapped: Buffer): Promise<Buffer | undefined>;
}

/** The software engine: node:crypto (OpenSSL) over the oct key's bytes. */
export function nodeAesEngine(key: Buffer): AesEngine {
  const attempt = async (work: () => Buffer) => {
    try {
      return work();
    } catch {
      return undefined;
    }
  };
  return {
    async gcmEncrypt(alg, iv, aad, plaintext) {
      const cipher = createCipheriv(alg.cipher, key, iv);
      if (aad !== undefined) cipher.setAAD(aad);
      const result = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { result, tag: cipher.getAuthTag() };
    },
    gcmDecrypt: (alg, iv, aad, tag, ciphertext) =>
      attempt(() => {
        const decipher = createDecipheriv(alg.cipher, key, iv);
        decipher.setAuthTag(tag);
        if (aad !== undefined) decipher.setAAD(aad);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      }),
    async cbcEncrypt(alg, iv, padded, plaintext) {
      const cipher = createCipheriv(alg.cipher, key, iv).setAutoPadding(padded);
      return Buffer.concat([cipher.update(plaintext), cipher.final()]);
    },
    cbcDecrypt: (alg, iv, padded, ciphertext) =>
      attempt(() => {
        const decipher = createDecipheriv(alg.cipher, key, iv).setAutoPadding(padded);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      }),
    async wrap(alg, keyToWrap) {
      const cipher = createCipheriv(alg.cipher, key, KEY_WRAP_IV);
      return Buffer.concat([cipher.update(keyToWrap), cipher.final()]);
    },
    unwrap: (alg, wrapped) =>
      attempt(() => {
        const decipher = createDecipheriv(alg.cipher, key, KEY_WRAP_IV);
        return Buffer.concat([decipher.update(wrapped), decipher.final()]);
      }),
  };
}

export async function encryptWith(
  engine: AesEngine,
  alg: AesAlgorithm,
  plaintext: Buffer,
  options: EncryptOptions,
): Promise<EncryptResult> {
  if (alg.scheme === 'aes-gcm') {
    // GCM fails badly when an iv repeats under one key (the XOR of two plaintexts leaks, and tags
    // can be forged), and a caller may know another caller's iv: only the service chooses it.
    if (options.iv !== undefined) {
      throw new BadParameter(
        `${alg.name} encrypt takes no iv: the service chooses a fresh random iv for every encryption and returns it with the ciphertext. Send that iv with decrypt.`,
      );
    }
    const iv = randomBytes(GCM_IV_BYTES);
    return { ...(await engine.gcmEncrypt(alg, iv, options.aad, plaintext)), iv };
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
  return { result: await engine.cbcEncrypt(alg, iv, padded, plaintext), iv };
}

export async function decryptWith(
  engine: AesEngine,
  alg: AesAlgorithm,
  ciphertext: Buffer,
  options: DecryptOptions,
): Promise<Buffer> {
  if (alg.scheme === 'aes-kw') throw new BadParameter(`${alg.name} is a key-wrap algorithm; use unwrapKey.`);
  if (options.iv === undefined) {
    throw new BadParameter(`${alg.name} decryption needs the iv that encrypt returned.`);
  }
  const plaintext =
    alg.scheme === 'aes-gcm'
      ? await gcmDecrypt(engine, alg, ciphertext, options.iv, options)
      : await cbcDecrypt(engine, alg, ciphertext, options.iv, options);
  if (plaintext === undefined) throw new BadParameter(DECRYPTION_FAILED);
  return plaintext;
}

function gcmDecrypt(
  engine: AesEngine,
  alg: AesGcmAlgorithm,
  ciphertext: Buffer,
  iv: Buffer,
  options: DecryptOptions,
): Promise<Buffer | undefined> {
  checkLength('iv', iv, GCM_IV_BYTES, alg);
  if (options.tag === undefined) {
    throw new BadParameter(`${alg.name} decryption needs the tag that encrypt returned.`);
  }
  const tag = checkLength('tag', options.tag, GCM_TAG_BYTES, alg);
  return engine.gcmDecrypt(alg, iv, options.aad, tag, ciphertext);
}

function cbcDecrypt(
  engine: AesEngine,
  alg: AesAlgorithm,
  ciphertext: Buffer,
  iv: Buffer,
  options: DecryptOptions,
): Promise<Buffer | undefined> {
  checkLength('iv', iv, BLOCK_BYTES, alg);
  rejectGcmOnlyInputs(alg, options);
  const padded = alg.scheme === 'aes-cbc-pad';
  if (ciphertext.length % BLOCK_BYTES !== 0 || (padded && ciphertext.length === 0)) {
    throw new BadParameter(
      `${alg.name} ciphertext must be a${padded ? ' non-empty' : ''} multiple of 16 bytes.`,
    );
  }
  // Only a PKCS#7 padding check can fail here; CBC without padding cannot detect a wrong key.
  return engine.cbcDecrypt(alg, iv, padded, ciphertext);
}

function requireKeyWrap(alg: AesAlgorithm): void {
  if (alg.scheme !== 'aes-kw') throw new BadParameter(`${alg.name} is not a key-wrap algorithm.`);
}

export async function wrapWith(engine: AesEngine, alg: AesAlgorithm, keyToWrap: Buffer): Promise<Buffer> {
  requireKeyWrap(alg);
  if (keyToWrap.length < 16 || keyToWrap.length % 8 !== 0) {
    throw new BadParameter(`${alg.name} wraps keys of at least 16 bytes in multiples of 8 bytes (RFC 3394).`);
  }
  return engine.wrap(alg, keyToWrap);
}

export async function unwrapWith(engine: AesEngine, alg: AesAlgorithm, wrapped: Buffer): Promise<Buffer> {
  requireKeyWrap(alg);
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) {
    throw new BadParameter(`${alg.name} wrapped keys are at least 24 bytes, in multiples of 8 bytes.`);
  }
  const key = await engine.unwrap(alg, wrapped);
  if (key === undefined) {
    throw new BadParameter(UNWRAP_FAILED);
  }
  return key;
}

export const aesEncrypt = (key: Buffer, alg: AesAlgorithm, plaintext: Buffer, options: EncryptOptions) =>
  encryptWith(nodeAesEngine(key), alg, plaintext, options);
export const aesDecrypt = (key: Buffer, alg: AesAlgorithm, ciphertext: Buffer, options: DecryptOptions) =>
  decryptWith(nodeAesEngine(key), alg, ciphertext, options);
export const aesWrap = (key: Buffer, alg: AesAlgorithm, keyToWrap: Buffer) =>
  wrapWith(nodeAesEngine(key), alg, keyToWrap);
export const aesUnwrap = (key: Buffer, alg: AesAlgorithm, wrapped: Buffer) =>
  unwrapWith(nodeAesEngine(key), alg, wrapped);
