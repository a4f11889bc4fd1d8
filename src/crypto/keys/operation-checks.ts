import { BadParameter } from '../../errors/index.js';
import type { KeyAlgorithm, SignatureAlgorithm } from './algorithms.js';

/**
 * The checks every key backend (software or HSM) makes before an operation, so a client's
 * mistake reads the same whichever backend holds the key.
 */

export function keyTypeMismatch(alg: KeyAlgorithm, kty: string): BadParameter {
  return new BadParameter(`Algorithm ${alg.name} needs an ${alg.keyType} key; this is an ${kty} key.`);
}

export function checkDigest(alg: SignatureAlgorithm, digest: Buffer): void {
  // Key Vault signs the digest the client computed; a wrong length means the wrong hash was used.
  if (digest.length !== alg.digestBytes) {
    throw new BadParameter(
      `${alg.name} signs a ${alg.digestBytes}-byte ${alg.hash.toUpperCase()} digest; the digest given has ${digest.length} bytes.`,
    );
  }
}

export function checkCurve(alg: SignatureAlgorithm, crv: string): void {
  if (alg.scheme !== 'ecdsa') return;
  if (crv !== alg.curve) {
    throw new BadParameter(`Algorithm ${alg.name} needs a ${alg.curve} key; this key is on ${crv}.`);
  }
}

export function checkOctSize(alg: KeyAlgorithm, bits: number): void {
  if (alg.keyType === 'oct' && bits !== alg.keyBytes * 8) {
    throw new BadParameter(
      `Algorithm ${alg.name} needs a ${alg.keyBytes * 8}-bit oct key; this key has ${bits} bits.`,
    );
  }
}
