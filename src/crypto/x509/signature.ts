import { createHash, createPublicKey, verify } from 'node:crypto';
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { BadParameter, InternalError } from '../../errors/index.js';
import type { Signer, SigningAlgorithm } from './types.js';

type HashName = 'sha256' | 'sha384' | 'sha512';

interface AlgorithmSpec {
  hash: HashName;
  /** The X.509 signatureAlgorithm OID. */
  oid: string;
  /** EC only: bytes of r (and of s) in the raw JWS signature. */
  ecCoordinateBytes?: number;
}

// The OIDs are spelled out: asn1-rsa's ready-made sha256WithRSAEncryption constant carries the wrong OID.
const ALGORITHMS: Record<SigningAlgorithm, AlgorithmSpec> = {
  RS256: { hash: 'sha256', oid: '1.2.840.113549.1.1.11' },
  RS384: { hash: 'sha384', oid: '1.2.840.113549.1.1.12' },
  RS512: { hash: 'sha512', oid: '1.2.840.113549.1.1.13' },
  ES256: { hash: 'sha256', oid: '1.2.840.10045.4.3.2', ecCoordinateBytes: 32 },
  ES384: { hash: 'sha384', oid: '1.2.840.10045.4.3.3', ecCoordinateBytes: 48 },
  ES512: { hash: 'sha512', oid: '1.2.840.10045.4.3.4', ecCoordinateBytes: 66 },
  ES256K: { hash: 'sha256', oid: '1.2.840.10045.4.3.2', ecCoordinateBytes: 32 },
};

type KeyDescription = { kty: 'RSA' } | { kty: 'EC'; crv: 'P-256' | 'P-384' | 'P-521' | 'P-256K' };

const EC_ALGORITHMS: Record<string, SigningAlgorithm> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  'P-256K': 'ES256K',
};

/** The signature algorithm a key of this kind signs certificates with. */
export function signingAlgorithmFor(key: KeyDescription): SigningAlgorithm {
  if (key.kty === 'RSA') return 'RS256';
  const alg = key.kty === 'EC' ? EC_ALGORITHMS[key.crv] : undefined;
  if (alg === undefined) {
    throw new BadParameter('A certificate key must be RSA or EC on P-256, P-384, P-521 or P-256K.');
  }
  return alg;
}

/** The AlgorithmIdentifier for the TBS structure and the outer signatureAlgorithm (which must match). */
export function signatureAlgorithmIdentifier(alg: SigningAlgorithm): AlgorithmIdentifier {
  const spec = algorithmSpec(alg);
  // RFC 4055 wants NULL parameters for RSA; RFC 5758 wants them absent for ECDSA.
  return new AlgorithmIdentifier(
    spec.ecCoordinateBytes ? { algorithm: spec.oid } : { algorithm: spec.oid, parameters: null },
  );
}

/** Hashes the DER to be signed, has the signer sign the digest, and returns the signature as X.509 carries it. */
export async function signDer(signer: Signer, toBeSigned: Buffer): Promise<Buffer> {
  const spec = algorithmSpec(signer.alg);
  const digest = createHash(spec.hash).update(toBeSigned).digest();
  const signature = await signer.sign(digest);
  return spec.ecCoordinateBytes ? ecdsaDer(signature, spec.ecCoordinateBytes, signer.alg) : signature;
}

/**
 * Whether `signature` over `signed` verifies with `spki`. Issuing checks its own output with it,
 * so a signer whose key is not the expected one yields an error, never a certificate that fails later.
 */
export function signatureVerifies(
  alg: SigningAlgorithm,
  signed: Buffer,
  signature: Buffer,
  spki: Buffer,
): boolean {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return verify(algorithmSpec(alg).hash, signed, key, signature);
  } catch {
    return false;
  }
}

function algorithmSpec(alg: SigningAlgorithm): AlgorithmSpec {
  const spec = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  if (spec === undefined) {
    throw new BadParameter(
      `Certificates cannot be signed with ${String(alg)}: use one of ${Object.keys(ALGORITHMS).join(', ')}.`,
    );
  }
  return spec;
}

/** JWS r||s to the DER ECDSA-Sig-Value that X.509 carries. */
function ecdsaDer(raw: Buffer, coordinateBytes: number, alg: SigningAlgorithm): Buffer {
  if (raw.length !== 2 * coordinateBytes) {
    throw new InternalError(
      `The ${alg} signer returned ${raw.length} bytes instead of ${2 * coordinateBytes}`,
    );
  }
  const value = new ECDSASigValue({
    r: positiveInteger(raw.subarray(0, coordinateBytes)),
    s: positiveInteger(raw.subarray(coordinateBytes)),
  });
  return Buffer.from(AsnConvert.serialize(value));
}

/** The minimal two's-complement content of a non-negative big-endian integer, as DER requires. */
function positiveInteger(bytes: Buffer): ArrayBuffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const content = trimmed[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return new Uint8Array(content).buffer;
}
