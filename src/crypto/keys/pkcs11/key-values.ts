import { decodeStored } from '../jwk.js';
import type { StoredKeyMaterial } from '../types.js';
import { encodeEcPoint } from './ec-point.js';
import { type Template, ck } from './library.js';
import type { PublicPart } from './objects.js';
import { EC_PARAMS } from './templates.js';

/** The attributes that carry a key's values into C_CreateObject. */

const field = (value: string) => decodeStored(value);

/** Bits of a big-endian integer without leading zero bytes. */
export const bitLength = (bytes: Buffer) => (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0] ?? 0));

export function privateValues(jwk: Exclude<StoredKeyMaterial, { kty: 'oct' }>): Template {
  if (jwk.kty === 'EC') {
    return [
      { type: ck.CKA_EC_PARAMS, value: EC_PARAMS[jwk.crv] },
      { type: ck.CKA_VALUE, value: field(jwk.d) },
    ];
  }
  return [
    { type: ck.CKA_MODULUS, value: field(jwk.n) },
    { type: ck.CKA_PUBLIC_EXPONENT, value: field(jwk.e) },
    { type: ck.CKA_PRIVATE_EXPONENT, value: field(jwk.d) },
    { type: ck.CKA_PRIME_1, value: field(jwk.p) },
    { type: ck.CKA_PRIME_2, value: field(jwk.q) },
    { type: ck.CKA_EXPONENT_1, value: field(jwk.dp) },
    { type: ck.CKA_EXPONENT_2, value: field(jwk.dq) },
    { type: ck.CKA_COEFFICIENT, value: field(jwk.qi) },
  ];
}

export function publicValues(part: PublicPart): Template {
  if (part.kty === 'EC') {
    return [
      { type: ck.CKA_EC_PARAMS, value: EC_PARAMS[part.crv] },
      { type: ck.CKA_EC_POINT, value: encodeEcPoint(field(part.x), field(part.y)) },
    ];
  }
  return [
    { type: ck.CKA_MODULUS, value: field(part.n) },
    { type: ck.CKA_PUBLIC_EXPONENT, value: field(part.e) },
  ];
}
