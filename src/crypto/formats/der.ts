import forge from 'node-forge';

/**
 * Thin helpers over node-forge's ASN.1 model, which holds bytes as "binary strings" (one char
 * per byte). Readers throw MalformedDer; each format turns it into its own client message.
 * Byte strings are taken from primitive nodes as they were read, never re-encoded, because
 * forge's encoder normalises some values (non-minimal INTEGERs) and would change a
 * certificate's bytes and so break its signature.
 */
export type Asn1 = forge.asn1.Asn1;

const { Class, Type } = forge.asn1;

export class MalformedDer extends Error {
  constructor() {
    super('malformed DER');
  }
}

export function toBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

export function fromBinary(binary: string): Buffer {
  return Buffer.from(binary, 'latin1');
}

/** Parses DER, or BER as older Windows and Java tools write it. */
export function parseDer(bytes: Buffer | string): Asn1 {
  try {
    return forge.asn1.fromDer(typeof bytes === 'string' ? bytes : toBinary(bytes), false);
  } catch {
    throw new MalformedDer();
  }
}

export function toDer(node: Asn1): string {
  return forge.asn1.toDer(node).getBytes();
}

// Builders

function universal(type: forge.asn1.Type, value: string | Asn1[]): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, type, Array.isArray(value), value);
}

export function sequence(...items: (Asn1 | undefined)[]): Asn1 {
  return universal(
    Type.SEQUENCE,
    items.filter((item) => item !== undefined),
  );
}

export function set(...items: Asn1[]): Asn1 {
  return universal(Type.SET, items);
}

export function oid(dotted: string): Asn1 {
  return universal(Type.OID, forge.asn1.oidToDer(dotted).getBytes());
}

export function octets(binary: string): Asn1 {
  return universal(Type.OCTETSTRING, binary);
}

export function integer(value: number): Asn1 {
  return universal(Type.INTEGER, forge.asn1.integerToDer(value).getBytes());
}

export function nullValue(): Asn1 {
  return universal(Type.NULL, '');
}

/** `[0] EXPLICIT`: a context tag wrapping one complete value. */
export function explicit0(inner: Asn1): Asn1 {
  return forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [inner]);
}

/** `[0] IMPLICIT OCTET STRING`: the context tag replaces the OCTET STRING tag. */
export function implicit0Octets(binary: string): Asn1 {
  return forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, false, binary);
}

// Readers

/** The children of a constructed node, which must have at least `min` of them. */
export function items(node: Asn1 | undefined, min = 0): Asn1[] {
  if (node === undefined || !Array.isArray(node.value) || node.value.length < min) throw new MalformedDer();
  return node.value;
}

export function oidOf(node: Asn1 | undefined): string {
  if (node?.tagClass !== Class.UNIVERSAL || node.type !== Type.OID || typeof node.value !== 'string') {
    throw new MalformedDer();
  }
  return forge.asn1.derToOid(node.value);
}

/** An OCTET STRING's bytes (or an implicitly tagged one's), joining BER's constructed chunks. */
export function bytesOf(node: Asn1 | undefined): string {
  if (node === undefined) throw new MalformedDer();
  if (node.tagClass === Class.UNIVERSAL && node.type !== Type.OCTETSTRING) throw new MalformedDer();
  if (typeof node.value === 'string') return node.value;
  return node.value.map((chunk) => bytesOf(chunk)).join('');
}

/** A non-negative INTEGER; Infinity when it is too large to matter as a count. */
export function integerOf(node: Asn1 | undefined): number {
  const isInteger = node?.tagClass === Class.UNIVERSAL && node.type === Type.INTEGER;
  if (!isInteger || typeof node.value !== 'string' || node.value.length === 0) {
    throw new MalformedDer();
  }
  const bytes = fromBinary(node.value);
  if ((bytes[0] ?? 0) & 0x80) throw new MalformedDer();
  const start = bytes.findIndex((byte) => byte !== 0);
  if (start < 0) return 0;
  const significant = bytes.subarray(start);
  return significant.length > 6 ? Infinity : significant.readUIntBE(0, significant.length);
}

/** The value inside a `[0] EXPLICIT` tag. */
export function explicitContent(node: Asn1 | undefined): Asn1 {
  if (node?.tagClass !== Class.CONTEXT_SPECIFIC || node.type !== 0) throw new MalformedDer();
  const [inner] = items(node, 1);
  if (inner === undefined) throw new MalformedDer();
  return inner;
}
