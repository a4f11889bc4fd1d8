import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { CurveParams } from './ec-curves.js';
import type { Curve } from './types.js';

/**
 * ECDSA over a digest the client computed, with JWS's raw r||s encoding. node:crypto cannot do
 * this (it hashes whatever it signs), so the audited @noble/curves does it: constant-time scalar
 * multiplication and hedged nonces (RFC 6979 mixed with fresh randomness), so a nonce neither
 * depends on the RNG alone nor repeats, and two signatures of one digest differ as on Azure.
 */
const IMPLEMENTATIONS: Record<Curve, typeof p256> = {
  'P-256': p256,
  'P-256K': secp256k1,
  'P-384': p384,
  'P-521': p521,
};

export function ecdsaSign(params: CurveParams, privateScalar: Buffer, digest: Buffer): Buffer {
  return Buffer.from(
    IMPLEMENTATIONS[params.name].sign(digest, privateScalar, { prehash: false, extraEntropy: true }),
  );
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
