import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { publicRandomBytes } from '../lib/public-random.js';

export const AES_256_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** AES-256-GCM with a fresh random nonce. Output: nonce | ciphertext | tag. */
export function sealAesGcm(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  // Public once sealed (it leads the output), so it may come from the pool.
  const nonce = publicRandomBytes(GCM_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/** Inverse of sealAesGcm; undefined when the input is malformed or fails authentication. */
export function openAesGcm(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
  if (sealed.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) return undefined;
  const input = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = input.subarray(0, GCM_NONCE_BYTES);
  const tag = input.subarray(input.length - GCM_TAG_BYTES);
  const body = input.subarray(GCM_NONCE_BYTES, input.length - GCM_TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** A secret: straight from the CSPRNG, never from the public pool. */
export function randomKey(): Buffer {
  return randomBytes(AES_256_KEY_BYTES);
}
