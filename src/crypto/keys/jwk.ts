import { createECDH } from 'node:crypto';
import { BadParameter, InternalError } from '../../errors/index.js';
import { fromBase64Url, toBase64Url } from '../../lib/base64.js';
import { curveParams, toBigInt } from './ec-curves.js';
import {
  CURVES,
  type EcPrivateJwk,
  type OctJwk,
  type PublicJwk,
  RSA_PRIVATE_FIELDS,
  type RsaField,
  type RsaPrivateJwk,
  type StoredKeyMaterial,
} from './types.js';

/**
 * Validation of a client's private JWK, and the public view of stored material. node:crypto
 * imports an RSA JWK whose d or CRT values disagree with n, and an EC JWK whose d does not match
 * x and y, so both are checked here: a bad import must fail now, not sign garbage later.
 * Messages name fields, never values.
 */

export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 4096;
export const OCT_SIZES_BITS: readonly number[] = [128, 192, 256];

type JwkInput = Readonly<Record<string, unknown>>;

const EC_FIELDS = ['x', 'y', 'd'] as const;

/** Decodes the named base64url fields, reporting every missing or malformed one at once. */
function readFields<Name extends string>(
  jwk: JwkInput,
  kty: string,
  names: readonly Name[],
): Record<Name, Buffer> {
  const values: Partial<Record<Name, Buffer>> = {};
  const missing: Name[] = [];
  for (const name of names) {
    const raw = Object.hasOwn(jwk, name) ? jwk[name] : undefined;
    const bytes = typeof raw === 'string' ? fromBase64Url(raw) : undefined;
    if (bytes === undefined || bytes.length === 0) missing.push(name);
    else values[name] = bytes;
  }
  if (missing.length > 0) {
    throw new BadParameter(
      `An ${kty} private key needs ${names.join(', ')} (base64url); missing or malformed: ${missing.join(', ')}.`,
    );
  }
  return values as Record<Name, Buffer>;
}

export function importPrivateJwk(input: object): StoredKeyMaterial {
  if (typeof input !== 'object' || input === null) {
    throw new BadParameter('The key must be a JSON Web Key object.');
  }
  const jwk = input as JwkInput;
  switch (jwk.kty) {
    case 'RSA':
      return importRsa(jwk);
    case 'EC':
      return importEc(jwk);
    case 'oct':
      return importOct(jwk);
    default:
      throw new BadParameter(
        'The key kty must be RSA, EC or oct (RSA-HSM, EC-HSM and oct-HSM map onto these).',
      );
  }
}

function importRsa(jwk: JwkInput): RsaPrivateJwk {
  const bytes = readFields(jwk, 'RSA', RSA_PRIVATE_FIELDS);
  const integers = mapFields(bytes, toBigInt);
  const bits = integers.n.toString(2).length;
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new BadParameter(
      `An RSA key must be ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits; this one has ${bits}.`,
    );
  }
  if (integers.e < 3n || integers.e % 2n === 0n) {
    throw new BadParameter('The RSA public exponent e must be odd and at least 3.');
  }
  if (!isConsistentRsa(integers)) {
    throw new BadParameter(
      'The RSA key is inconsistent: n, e, d, p, q, dp, dq and qi do not describe one key.',
    );
  }
  // Stored canonically: minimal big-endian integers, base64url without padding.
  return { kty: 'RSA', ...mapFields(bytes, (value) => toBase64Url(stripLeadingZeros(value))) };
}

/** One check per relation, run once at import; the operations then trust the stored key. */
function isConsistentRsa({ n, e, d, p, q, dp, dq, qi }: Record<RsaField, bigint>): boolean {
  return (
    p > 1n &&
    q > 1n &&
    p * q === n &&
    (d * e - 1n) % (p - 1n) === 0n &&
    (d * e - 1n) % (q - 1n) === 0n &&
    dp === d % (p - 1n) &&
    dq === d % (q - 1n) &&
    (qi * q) % p === 1n
  );
}

function mapFields<Name extends string, From, To>(
  fields: Record<Name, From>,
  convert: (value: From) => To,
): Record<Name, To> {
  const entries = Object.entries(fields) as [Name, From][];
  return Object.fromEntries(entries.map(([name, value]) => [name, convert(value)])) as Record<Name, To>;
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  const first = bytes.findIndex((byte) => byte !== 0);
  return first <= 0 ? bytes : bytes.subarray(first);
}

function importEc(jwk: JwkInput): EcPrivateJwk {
  const params = curveParams(jwk.crv);
  if (params === undefined) throw new BadParameter(`An EC key's crv must be one of ${CURVES.join(', ')}.`);
  const { x, y, d } = readFields(jwk, 'EC', EC_FIELDS);
  if (x.length !== params.bytes || y.length !== params.bytes || d.length !== params.bytes) {
    throw new BadParameter(`On ${params.name}, x, y and d must each be ${params.bytes} bytes.`);
  }
  const ecdh = createECDH(params.nodeName);
  try {
    ecdh.setPrivateKey(d);
  } catch {
    throw new BadParameter(`The EC private key d is not valid on ${params.name}.`);
  }
  // d·G must be (x, y): node:crypto would otherwise accept a mismatched pair.
  if (!ecdh.getPublicKey().equals(Buffer.concat([Buffer.from([0x04]), x, y]))) {
    throw new BadParameter('The EC key is inconsistent: d does not match the public point (x, y).');
  }
  return { kty: 'EC', crv: params.name, x: toBase64Url(x), y: toBase64Url(y), d: toBase64Url(d) };
}

function importOct(jwk: JwkInput): OctJwk {
  const { k } = readFields(jwk, 'oct', ['k']);
  if (!OCT_SIZES_BITS.includes(k.length * 8)) {
    throw new BadParameter(
      `An oct key must be ${OCT_SIZES_BITS.join(', ')} bits; this one has ${k.length * 8}.`,
    );
  }
  return { kty: 'oct', k: toBase64Url(k) };
}

export function publicJwkOf(material: StoredKeyMaterial): PublicJwk {
  switch (material.kty) {
    case 'RSA':
      return { kty: 'RSA', n: material.n, e: material.e };
    case 'EC':
      return { kty: 'EC', crv: material.crv, x: material.x, y: material.y };
    case 'oct':
      return { kty: 'oct' };
  }
}

export function keySizeOf(material: StoredKeyMaterial): number {
  switch (material.kty) {
    case 'RSA':
      return toBigInt(decodeStored(material.n)).toString(2).length;
    case 'EC':
      return storedCurve(material).bits;
    case 'oct':
      return decodeStored(material.k).length * 8;
  }
}

/** Stored material was validated when it was created; failing to decode it is corruption. */
export function decodeStored(field: string): Buffer {
  const bytes = fromBase64Url(field);
  if (bytes === undefined) throw new InternalError('stored key material is not base64url');
  return bytes;
}

export function storedCurve(material: EcPrivateJwk) {
  const params = curveParams(material.crv);
  if (params === undefined) throw new InternalError('stored EC key has an unknown curve');
  return params;
}
