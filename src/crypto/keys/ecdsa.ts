import { createECDH, createHmac, randomBytes } from 'node:crypto';
import { type IField, getMinHashLength, mapHashToField, mod } from '@noble/curves/abstract/modular.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import type { CurveParams } from './ec-curves.js';
import type { Curve } from './types.js';

/**
 * ECDSA over a digest the client computed, with JWS's raw r||s encoding. node:crypto cannot sign a
 * digest (it hashes whatever it signs), and signing wholly in JavaScript (@noble/curves) spends
 * most of its time in the scalar multiplication k·G: on P-256 it is about 20 times slower than
 * OpenSSL. So the work is split:
 *
 * - k·G is computed by OpenSSL, as the public key of a throwaway ECDH key whose private key is k
 *   (`createECDH().setPrivateKey(k)`): OpenSSL's constant-time fixed-base multiplication.
 * - The arithmetic mod n (bits2int, r, s, the inverse of k) uses the scalar field of the audited
 *   @noble/curves, never modular code of our own. Its inverse is a variable-time Euclid, so it
 *   is blinded: it inverts k·b for a random b, and k⁻¹ = b·(k·b)⁻¹, so its timing says nothing
 *   about k.
 * - The nonce is hedged, FIPS 186-5 A.3.1 "extra random bits": c is N + 64 bits (N the bit length
 *   of n) of HMAC-SHA-512, keyed with 32 fresh random bytes, over d || digest || block counter;
 *   k = (c mod (n − 1)) + 1. k is neither the RNG's output alone (a weak RNG still gives a nonce
 *   that depends on d and the digest) nor deterministic (two signatures of one digest differ, as
 *   on Azure), and with a working RNG it never repeats.
 *
 * s is normalized to the lower half of the order (low-S), as noble's signer always did.
 *
 * Cost per signature: an ECDH object and one OpenSSL scalar multiplication (about 20 µs on
 * P-256), one or two HMACs, two random draws and noble's BigInt inverse (about 40 µs, the largest
 * part now). Measured with Node 20 and its OpenSSL 3.0: P-256 75-90 µs against 550-600 µs in
 * noble (node:crypto signing a message: 26 µs). OpenSSL 3.0 has fast code for P-256 only: its
 * generic ladder makes P-256K and P-384 only 1.2-1.4 times faster than noble, and P-521 no faster
 * (about 2 ms either way, this path some 5-10% slower).
 *
 * Hygiene: the Buffers made here that hold k, or bytes k or the blinding come from, are zeroed
 * after use. That is all that can be wiped: BigInts (d, k, k⁻¹) and the hex strings noble
 * converts through cannot be zeroed, and each ECDH object keeps its k inside OpenSSL until it is
 * garbage-collected. The caller's private-scalar Buffer is the caller's to wipe.
 */
const IMPLEMENTATIONS: Record<Curve, typeof p256> = {
  'P-256': p256,
  'P-256K': secp256k1,
  'P-384': p384,
  'P-521': p521,
};

/** Key size of the hedging HMAC: 32 fresh random bytes per signature. */
const HEDGE_KEY_BYTES = 32;
/** FIPS 186-5 A.3.1: N + 64 bits reduced mod n − 1, so k's bias is under 2⁻⁶⁴. */
const EXTRA_NONCE_BITS = 64;
const SHA512_BYTES = 64;

export function ecdsaSign(params: CurveParams, privateScalar: Buffer, digest: Buffer): Buffer {
  const Fn = IMPLEMENTATIONS[params.name].Point.Fn;
  const n = Fn.ORDER;
  // Throws unless privateScalar is exactly Fn.BYTES long and below n.
  const d = Fn.fromBytes(privateScalar);
  if (Fn.is0(d)) throw new Error('invalid private key');
  const z = bits2intModN(Fn, digest);
  for (;;) {
    // One call to the RNG per attempt: the HMAC key of the nonce, then the bytes of the blinding b.
    const entropy = randomBytes(HEDGE_KEY_BYTES + getMinHashLength(n));
    try {
      const k = hedgedNonce(Fn, entropy.subarray(0, HEDGE_KEY_BYTES), privateScalar, digest);
      const r = Fn.create(rX(params, Fn, k));
      if (Fn.is0(r)) continue;
      // Blinded inversion: the variable-time inverse sees only k·b, uniform and independent of k.
      // mapHashToField maps the bytes into [1, n − 1] (b is never 0, so k·b is invertible).
      const b = bytesToNumberBE(mapHashToField(entropy.subarray(HEDGE_KEY_BYTES), n));
      const kInverse = Fn.mul(b, Fn.inv(Fn.mul(k, b)));
      let s = Fn.mul(kInverse, Fn.add(z, Fn.mul(r, d)));
      if (Fn.is0(s)) continue;
      // s and n − s both verify; the low one is what noble, and so this module, always produced.
      if (s > n >> 1n) s = Fn.neg(s);
      return Buffer.concat([numberToBytesBE(r, params.bytes), numberToBytesBE(s, params.bytes)]);
    } finally {
      entropy.fill(0);
    }
  }
}

/** RFC 6979 §2.3.2 bits2int, mod n: the digest's leftmost N bits when it is longer than n. */
function bits2intModN(Fn: IField<bigint>, digest: Buffer): bigint {
  const excess = digest.length * 8 - Fn.BITS;
  const value = digest.length === 0 ? 0n : bytesToNumberBE(digest);
  return Fn.create(excess > 0 ? value >> BigInt(excess) : value);
}

/** k in [1, n − 1], FIPS 186-5 A.3.1 with hedged bytes (see the module comment). */
function hedgedNonce(Fn: IField<bigint>, key: Buffer, privateScalar: Buffer, digest: Buffer): bigint {
  const length = Math.ceil((Fn.BITS + EXTRA_NONCE_BITS) / 8);
  const c = Buffer.alloc(Math.ceil(length / SHA512_BYTES) * SHA512_BYTES);
  const counter = Buffer.alloc(4);
  try {
    for (let block = 0; block * SHA512_BYTES < length; block++) {
      counter.writeUInt32BE(block);
      const bytes = createHmac('sha512', key).update(privateScalar).update(digest).update(counter).digest();
      bytes.copy(c, block * SHA512_BYTES);
      bytes.fill(0);
    }
    return mod(bytesToNumberBE(c.subarray(0, length)), Fn.ORDER - 1n) + 1n;
  } finally {
    c.fill(0);
  }
}

/** x(k·G), computed by OpenSSL. */
function rX(params: CurveParams, Fn: IField<bigint>, k: bigint): bigint {
  const kBytes = numberToBytesBE(k, Fn.BYTES);
  try {
    const ecdh = createECDH(params.nodeName);
    ecdh.setPrivateKey(kBytes);
    // Uncompressed SEC 1 point: 0x04 || x || y.
    return bytesToNumberBE(ecdh.getPublicKey().subarray(1, 1 + params.bytes));
  } finally {
    kBytes.fill(0);
  }
}

/**
 * False for any signature that is malformed or does not verify. High-S signatures are accepted
 * (lowS: false): they are valid ECDSA, and other signers (OpenSSL, HSMs) produce them.
 */
export function ecdsaVerify(
  params: CurveParams,
  publicKey: { x: Buffer; y: Buffer },
  digest: Buffer,
  signature: Buffer,
): boolean {
  if (signature.length !== 2 * params.bytes) return false;
  const point = Buffer.concat([Buffer.from([4]), publicKey.x, publicKey.y]);
  try {
    return IMPLEMENTATIONS[params.name].verify(signature, digest, point, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}
