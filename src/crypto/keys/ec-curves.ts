import type { Curve } from './types.js';

/**
 * The four Key Vault curves: their names in node:crypto and in JWKs, and their sizes. The
 * signing arithmetic itself lives in an audited library (see ecdsa.ts), never here.
 */
export interface CurveParams {
  readonly name: Curve;
  /** node:crypto's name for createECDH and generateKeyPair. */
  readonly nodeName: string;
  /** node:crypto's JWK `crv`: Azure's 'P-256K' is node's 'secp256k1'. */
  readonly jwkCrv: string;
  /** Length of a coordinate, of d, and of r and s in a signature. */
  readonly bytes: number;
  /** The key size Key Vault reports. */
  readonly bits: number;
}

const CURVE_TABLE: Record<string, CurveParams> = Object.create(null) as Record<string, CurveParams>;
for (const params of [
  { name: 'P-256', nodeName: 'prime256v1', jwkCrv: 'P-256', bytes: 32, bits: 256 },
  { name: 'P-256K', nodeName: 'secp256k1', jwkCrv: 'secp256k1', bytes: 32, bits: 256 },
  { name: 'P-384', nodeName: 'secp384r1', jwkCrv: 'P-384', bytes: 48, bits: 384 },
  { name: 'P-521', nodeName: 'secp521r1', jwkCrv: 'P-521', bytes: 66, bits: 521 },
] as const) {
  CURVE_TABLE[params.name] = Object.freeze(params);
}

/** The curve's parameters, or undefined for a name that is not one of Key Vault's curves. */
export function curveParams(name: unknown): CurveParams | undefined {
  return typeof name === 'string' ? CURVE_TABLE[name] : undefined;
}

export function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}
