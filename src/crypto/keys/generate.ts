import { type JsonWebKey, type KeyObject, generateKeyPair, randomBytes } from 'node:crypto';
import { BadParameter, InternalError } from '../../errors/index.js';
import { toBase64Url } from '../../lib/base64.js';
import { curveParams } from './ec-curves.js';
import { OCT_SIZES_BITS } from './jwk.js';
import { CURVES, type KeySpec, RSA_PRIVATE_FIELDS, type RsaField, type StoredKeyMaterial } from './types.js';

/** Key generation with node:crypto, returning the private JWK to store. */

export const RSA_SIZES_BITS: readonly number[] = [2048, 3072, 4096];
const DEFAULT_PUBLIC_EXPONENT = 65537;

export async function generateKey(spec: KeySpec): Promise<StoredKeyMaterial> {
  switch (spec.kty) {
    case 'RSA':
      return generateRsa(spec);
    case 'EC':
      return generateEc(spec);
    case 'oct':
      return generateOct(spec);
    default:
      throw new BadParameter('The key kty must be RSA, EC or oct.');
  }
}

function keyPair(type: 'rsa' | 'ec', options: object): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve(privateKey);
    if (type === 'rsa') generateKeyPair('rsa', options as { modulusLength: number }, done);
    else generateKeyPair('ec', options as { namedCurve: string }, done);
  });
}

function field(jwk: JsonWebKey, name: string): string {
  const value = jwk[name];
  if (typeof value !== 'string') throw new InternalError(`generated JWK lacks ${name}`);
  return value;
}

async function generateRsa(spec: KeySpec): Promise<StoredKeyMaterial> {
  const bits = spec.size ?? 2048;
  if (!RSA_SIZES_BITS.includes(bits)) {
    throw new BadParameter(`An RSA key size must be one of ${RSA_SIZES_BITS.join(', ')} bits.`);
  }
  const exponent = spec.publicExponent ?? DEFAULT_PUBLIC_EXPONENT;
  if (!Number.isSafeInteger(exponent) || exponent < 3 || exponent > 0xffffffff || exponent % 2 === 0) {
    throw new BadParameter(
      'The RSA public exponent must be an odd integer from 3 to 2^32-1 (usually 65537).',
    );
  }
  const privateKey = await keyPair('rsa', { modulusLength: bits, publicExponent: exponent });
  const jwk = privateKey.export({ format: 'jwk' });
  const fields = RSA_PRIVATE_FIELDS.map((name) => [name, field(jwk, name)] as const);
  return { kty: 'RSA', ...(Object.fromEntries(fields) as Record<RsaField, string>) };
}

async function generateEc(spec: KeySpec): Promise<StoredKeyMaterial> {
  const params = curveParams(spec.curve ?? 'P-256');
  if (params === undefined) throw new BadParameter(`An EC key's curve must be one of ${CURVES.join(', ')}.`);
  const privateKey = await keyPair('ec', { namedCurve: params.nodeName });
  const jwk = privateKey.export({ format: 'jwk' });
  return { kty: 'EC', crv: params.name, x: field(jwk, 'x'), y: field(jwk, 'y'), d: field(jwk, 'd') };
}

async function generateOct(spec: KeySpec): Promise<StoredKeyMaterial> {
  const bits = spec.size ?? 256;
  if (!OCT_SIZES_BITS.includes(bits)) {
    throw new BadParameter(`An oct key size must be one of ${OCT_SIZES_BITS.join(', ')} bits.`);
  }
  return { kty: 'oct', k: toBase64Url(randomBytes(bits / 8)) };
}
