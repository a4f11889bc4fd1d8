import { InternalError } from '../../../errors/index.js';
import { curveParams } from '../ec-curves.js';
import type { Curve } from '../types.js';

/**
 * CKA_EC_POINT is the uncompressed point 04||x||y, which PKCS#11 v2.40 wraps in a DER OCTET
 * STRING (most tokens do; some give it bare, which is accepted too).
 */
export function encodeEcPoint(x: Buffer, y: Buffer): Buffer {
  const point = Buffer.concat([Buffer.from([0x04]), x, y]);
  const length = point.length < 0x80 ? Buffer.from([point.length]) : Buffer.from([0x81, point.length]);
  return Buffer.concat([Buffer.from([0x04]), length, point]);
}

export function decodeEcPoint(curve: Curve, value: Buffer): { x: Buffer; y: Buffer } {
  const bytes = curveParams(curve)!.bytes;
  const pointLength = 1 + 2 * bytes;
  let point = value;
  if (value.length !== pointLength) {
    const header = value[1] === 0x81 ? 3 : 2;
    point = value.subarray(header);
  }
  if (point.length !== pointLength || point[0] !== 0x04) {
    throw new InternalError('the token returned an EC point that is not an uncompressed point');
  }
  return { x: point.subarray(1, 1 + bytes), y: point.subarray(1 + bytes) };
}
