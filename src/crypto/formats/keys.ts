import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { BadParameter } from '../../errors/index.js';
import { curveParams } from '../keys/ec-curves.js';
import { importPrivateJwk } from '../keys/jwk.js';
import { CURVES, type Curve, type PublicJwk, type StoredKeyMaterial } from '../keys/types.js';

/**
 * Conversions between the project's JWKs and the DER forms certificates carry, all by
 * node:crypto. Messages name key types and curves, never key bytes.
 */

const SUPPORTED_KEYS = `RSA (2048 to 4096 bits) and EC on ${CURVES.join(', ')}`;

export function pkcs8FromJwk(material: StoredKeyMaterial): Buffer {
  if (material.kty === 'oct') throw new BadParameter(`A certificate key must be ${SUPPORTED_KEYS}, not oct.`);
  try {
    return createPrivateKey({ key: nodeJwk(material), format: 'jwk' }).export({
      type: 'pkcs8',
      format: 'der',
    });
  } catch {
    throw new BadParameter(`The ${material.kty} private key is not valid.`);
  }
}

/**
 * The stored JWK of a PKCS#8 key, validated and canonical as for an imported key (sizes,
 * consistency), so a certificate's key behaves exactly like a key imported through the keys API.
 */
export function jwkFromPkcs8(pkcs8: Buffer): StoredKeyMaterial {
  const key = parsePkcs8(pkcs8, 'The private key');
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new BadParameter(
      `The private key is ${key.asymmetricKeyType ?? 'of an unknown type'}; supported: ${SUPPORTED_KEYS}.`,
    );
  }
  return importPrivateJwk(azureJwk(exportJwk(key)));
}

export function spkiFromPublicJwk(jwk: PublicJwk): Buffer {
  if (jwk.kty === 'oct') throw new BadParameter('An oct key has no public key.');
  try {
    return createPublicKey({ key: nodeJwk(jwk), format: 'jwk' }).export({ type: 'spki', format: 'der' });
  } catch {
    throw new BadParameter(`The public ${jwk.kty} key is not valid.`);
  }
}

export function publicKeyMatches(privateKeyPkcs8: Buffer, certificateDer: Buffer): boolean {
  return certificateMatchesKey(
    parseCertificate(certificateDer, 'The certificate'),
    parsePkcs8(privateKeyPkcs8, 'The private key'),
  );
}

export function certificateMatchesKey(certificate: X509Certificate, key: KeyObject): boolean {
  try {
    return certificate.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** `what` starts the message, e.g. 'The private key in the PKCS#12 file'. */
export function parsePkcs8(pkcs8: Buffer, what: string): KeyObject {
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    throw new BadParameter(`${what} is not a valid PKCS#8 private key.`);
  }
}

export function parseCertificate(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new BadParameter(`${what} is not a valid X.509 certificate.`);
  }
}

/** node:crypto's JWK: Azure's 'P-256K' is node's 'secp256k1'. */
function nodeJwk(jwk: Exclude<StoredKeyMaterial | PublicJwk, { kty: 'oct' }>): JsonWebKey {
  if (jwk.kty === 'RSA') return { ...jwk };
  return { ...jwk, crv: curveParams(jwk.crv)?.jwkCrv ?? jwk.crv };
}

function exportJwk(key: KeyObject): JsonWebKey {
  try {
    return key.export({ format: 'jwk' });
  } catch {
    // node:crypto exports EC JWKs only on the curves JWK names (P-256, P-384, P-521, secp256k1).
    throw new BadParameter(`The private key's EC curve is not supported; supported: ${SUPPORTED_KEYS}.`);
  }
}

function azureJwk(jwk: JsonWebKey): JsonWebKey {
  if (jwk.kty !== 'EC') return jwk;
  const curve = CURVES.find((name: Curve) => curveParams(name)?.jwkCrv === jwk.crv);
  if (curve === undefined) {
    throw new BadParameter(`The private key's EC curve is not supported; supported: ${SUPPORTED_KEYS}.`);
  }
  return { ...jwk, crv: curve };
}
