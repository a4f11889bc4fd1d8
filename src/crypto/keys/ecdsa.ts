import { randomBytes } from 'node:crypto';
import {
  type CurveParams,
  type Point,
  linearCombination,
  modInverse,
  multiplyBase,
  toBigInt,
  toFixedBytes,
} from './ec-curves.js';

/**
 * ECDSA over a precomputed digest (SEC 1 §4.1), with JWS's raw r||s signature encoding.
 * node:crypto hashes whatever it signs (crypto.sign(null, …) on an EC key still applies SHA-256)
 * and privateEncrypt refuses EC keys, so the scheme is assembled here from OpenSSL's ECDH
 * scalar multiplication plus arithmetic modulo the group order.
 */

/** The digest as an integer, truncated to the order's bit length as SEC 1 requires. */
function digestToInteger(params: CurveParams, digest: Buffer): bigint {
  const excessBits = digest.length * 8 - params.n.toString(2).length;
  const value = toBigInt(digest);
  return excessBits > 0 ? value >> BigInt(excessBits) : value;
}

/** Uniform in [1, n-1]: 128 extra random bits make the modulo bias negligible. */
function randomScalar(params: CurveParams): bigint {
  return (toBigInt(randomBytes(params.bytes + 16)) % (params.n - 1n)) + 1n;
}

export function ecdsaSign(params: CurveParams, privateScalar: Buffer, digest: Buffer): Buffer {
  const { n } = params;
  const d = toBigInt(privateScalar);
  const z = digestToInteger(params, digest);
  for (;;) {
    const k = randomScalar(params);
    // The nonce's point comes from OpenSSL: a timing leak of k would give away d.
    const r = multiplyBase(params, k).x % n;
    if (r === 0n) continue;
    // BigInt is not constant-time, so d and k enter it only multiplied by a fresh random b:
    // s = (k·b)⁻¹ · (b·z + r·(b·d)) = k⁻¹ · (z + r·d) mod n.
    const b = randomScalar(params);
    const blindedD = (b * d) % n;
    const s = (modInverse((k * b) % n, n) * ((b * z + r * blindedD) % n)) % n;
    if (s === 0n) continue;
    return Buffer.concat([toFixedBytes(r, params.bytes), toFixedBytes(s, params.bytes)]);
  }
}

/** False for any signature that is malformed or does not verify; inputs here are all public. */
export function ecdsaVerify(
  params: CurveParams,
  publicPoint: Point,
  digest: Buffer,
  signature: Buffer,
): boolean {
  const { n } = params;
  if (signature.length !== 2 * params.bytes) return false;
  const r = toBigInt(signature.subarray(0, params.bytes));
  const s = toBigInt(signature.subarray(params.bytes));
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const w = modInverse(s, n);
  const u1 = (digestToInteger(params, digest) * w) % n;
  const u2 = (r * w) % n;
  const point = linearCombination(params, u1, u2, publicPoint);
  return point !== undefined && point.x % n === r;
}
