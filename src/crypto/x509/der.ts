import { AsnConvert } from '@peculiar/asn1-schema';
import { BadParameter } from '../../errors/index.js';

/**
 * Parses one DER structure that must fill `der` exactly, turning any decoding error into
 * BadParameter: asn1-schema ignores trailing bytes and throws plain Errors.
 */
export function parseDer<T>(der: Buffer, type: new () => T, problem: string): T {
  if (!Buffer.isBuffer(der) || encodedLength(der) !== der.length) throw new BadParameter(problem);
  try {
    return AsnConvert.parse(der, type);
  } catch {
    throw new BadParameter(problem);
  }
}

export function toDer(value: unknown): Buffer {
  return Buffer.from(AsnConvert.serialize(value));
}

/** The length of the first TLV (tag, length octets and content), or -1 when the header is not DER. */
function encodedLength(der: Buffer): number {
  if (der.length < 2 || (der[0]! & 0x1f) === 0x1f) return -1;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || der.length < 2 + lengthBytes) return -1;
  return 2 + lengthBytes + der.readUIntBE(2, lengthBytes);
}

/** A copy of the bytes as the standalone ArrayBuffer that asn1-schema's fields expect. */
export function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}
