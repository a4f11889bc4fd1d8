import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HashName } from './algorithms.js';

/**
 * EMSA-PSS encoding and verification (RFC 8017 §9.1) over a digest the client computed, with
 * MGF1 of the same hash. node:crypto signs PSS only over a whole message, so the encoded message
 * is built here and put through the raw RSA private operation (RSA_NO_PADDING) by the caller.
 */

const PREFIX_ZEROS = Buffer.alloc(8);

function hash(name: HashName, ...parts: Buffer[]): Buffer {
  const digest = createHash(name);
  for (const part of parts) digest.update(part);
  return digest.digest();
}

/** MGF1 (RFC 8017 B.2.1). */
function mgf1(name: HashName, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let produced = 0, i = 0; produced < length; i++) {
    counter.writeUInt32BE(i);
    const block = hash(name, seed, counter);
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** Bits of the first EM byte that must be zero, so that EM < n (emBits = modBits - 1). */
function topMask(modulusBits: number): number {
  const unusedBits = 8 * Math.ceil((modulusBits - 1) / 8) - (modulusBits - 1);
  return 0xff >> unusedBits;
}

/**
 * EMSA-PSS-ENCODE with salt length = hash length (as JWA requires), left-padded with zeros to
 * the modulus length so it can go straight into the raw RSA operation.
 */
export function pssEncode(name: HashName, digest: Buffer, modulusBits: number): Buffer {
  const hashLength = digest.length;
  const emLength = Math.ceil((modulusBits - 1) / 8);
  const salt = randomBytes(hashLength);
  const h = hash(name, PREFIX_ZEROS, digest, salt);
  const db = Buffer.alloc(emLength - hashLength - 1);
  db[db.length - hashLength - 1] = 0x01;
  salt.copy(db, db.length - hashLength);
  const mask = mgf1(name, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & topMask(modulusBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  return Buffer.concat([Buffer.alloc(Math.ceil(modulusBits / 8) - emLength), em]);
}

/**
 * EMSA-PSS-VERIFY for the output of the raw public operation (modulus length). The salt length
 * is read from the encoding, as OpenSSL does by default, so signers that use a longer salt
 * (node's own default is the maximum) verify too.
 */
export function pssVerify(name: HashName, digest: Buffer, recovered: Buffer, modulusBits: number): boolean {
  const hashLength = digest.length;
  const emLength = Math.ceil((modulusBits - 1) / 8);
  const leading = recovered.subarray(0, recovered.length - emLength);
  const em = recovered.subarray(recovered.length - emLength);
  if (leading.some((byte) => byte !== 0) || emLength < 2 * hashLength + 2) return false;
  if (em[em.length - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLength - hashLength - 1);
  const h = em.subarray(emLength - hashLength - 1, emLength - 1);
  if (((masked[0] ?? 0) & ~topMask(modulusBits)) !== 0) return false;
  const mask = mgf1(name, h, masked.length);
  const db = Buffer.from(masked.map((byte, i) => byte ^ (mask[i] ?? 0)));
  db[0] = (db[0] ?? 0) & topMask(modulusBits);
  const separator = db.findIndex((byte) => byte !== 0);
  if (separator < 0 || db[separator] !== 0x01) return false;
  const salt = db.subarray(separator + 1);
  return timingSafeEqual(hash(name, PREFIX_ZEROS, digest, salt), h);
}
