import { createECDH } from 'node:crypto';
import type { Curve } from './types.js';

/**
 * The four Key Vault curves and the little arithmetic node:crypto does not offer: ECDSA over a
 * digest the client computed. Scalar multiplication by a SECRET (the signing nonce) always goes
 * through OpenSSL's ECDH, which is constant-time; the BigInt point arithmetic here is used only
 * on public values (signature verification), where timing reveals nothing.
 */
export interface CurveParams {
  readonly name: Curve;
  /** node:crypto's name for createECDH and generateKeyPair. */
  readonly nodeName: string;
  /** node:crypto's JWK `crv`: Azure's 'P-256K' is node's 'secp256k1'. */
  readonly jwkCrv: string;
  /** Field prime, coefficient a, group order. */
  readonly p: bigint;
  readonly a: bigint;
  readonly n: bigint;
  /** Length of a coordinate, of d, and of r and s in a signature. */
  readonly bytes: number;
  /** The key size Key Vault reports. */
  readonly bits: number;
}

const P256 = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const P384 = 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n;
const P521 = 2n ** 521n - 1n;
const SECP256K1 = 2n ** 256n - 2n ** 32n - 977n;

const CURVE_TABLE: Record<string, CurveParams> = Object.create(null) as Record<string, CurveParams>;
for (const params of [
  curve(
    'P-256',
    'prime256v1',
    'P-256',
    P256,
    P256 - 3n,
    'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
  ),
  curve(
    'P-256K',
    'secp256k1',
    'secp256k1',
    SECP256K1,
    0n,
    'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
  ),
  curve(
    'P-384',
    'secp384r1',
    'P-384',
    P384,
    P384 - 3n,
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  ),
  curve(
    'P-521',
    'secp521r1',
    'P-521',
    P521,
    P521 - 3n,
    '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
      'fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
]) {
  CURVE_TABLE[params.name] = Object.freeze(params);
}

function curve(
  name: Curve,
  nodeName: string,
  jwkCrv: string,
  p: bigint,
  a: bigint,
  order: string,
): CurveParams {
  const bits = p.toString(2).length;
  return { name, nodeName, jwkCrv, p, a, n: BigInt(`0x${order}`), bytes: Math.ceil(bits / 8), bits };
}

/** Parameters of an Azure curve name; undefined for anything else (the name may come from a client). */
export function curveParams(name: unknown): CurveParams | undefined {
  return typeof name === 'string' ? CURVE_TABLE[name] : undefined;
}

export interface Point {
  readonly x: bigint;
  readonly y: bigint;
}

export function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function toFixedBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

function mod(value: bigint, modulus: bigint): bigint {
  const rest = value % modulus;
  return rest < 0n ? rest + modulus : rest;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = mod(base, modulus);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

/** Inverse modulo a prime (Fermat): the same sequence of operations whatever the value. */
export function modInverse(value: bigint, prime: bigint): bigint {
  return modPow(value, prime - 2n, prime);
}

/** k·G through OpenSSL (constant-time in k). `k` must be in [1, n-1]. */
export function multiplyBase(params: CurveParams, k: bigint): Point {
  const ecdh = createECDH(params.nodeName);
  ecdh.setPrivateKey(toFixedBytes(k, params.bytes));
  return decodeUncompressed(params, ecdh.getPublicKey());
}

function decodeUncompressed(params: CurveParams, encoded: Buffer): Point {
  return {
    x: toBigInt(encoded.subarray(1, 1 + params.bytes)),
    y: toBigInt(encoded.subarray(1 + params.bytes, 1 + 2 * params.bytes)),
  };
}

const BASE_POINTS = new Map<Curve, Point>();

/** The generator, taken from OpenSSL (1·G) rather than copied by hand. */
export function basePoint(params: CurveParams): Point {
  let point = BASE_POINTS.get(params.name);
  if (point === undefined) {
    point = multiplyBase(params, 1n);
    BASE_POINTS.set(params.name, point);
  }
  return point;
}

// Jacobian coordinates (X/Z², Y/Z³) avoid an inversion per step; z = 0 is the point at infinity.
interface Jacobian {
  readonly x: bigint;
  readonly y: bigint;
  readonly z: bigint;
}

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

function double(params: CurveParams, point: Jacobian): Jacobian {
  if (point.z === 0n || point.y === 0n) return INFINITY;
  const { p, a } = params;
  const yy = (point.y * point.y) % p;
  const s = (4n * point.x * yy) % p;
  const zz = (point.z * point.z) % p;
  const m = mod(3n * point.x * point.x + a * ((zz * zz) % p), p);
  const x = mod(m * m - 2n * s, p);
  const y = mod(m * (s - x) - 8n * yy * yy, p);
  return { x, y, z: (2n * point.y * point.z) % p };
}

function add(params: CurveParams, left: Jacobian, right: Jacobian): Jacobian {
  if (left.z === 0n) return right;
  if (right.z === 0n) return left;
  const { p } = params;
  const leftZZ = (left.z * left.z) % p;
  const rightZZ = (right.z * right.z) % p;
  const u1 = (left.x * rightZZ) % p;
  const u2 = (right.x * leftZZ) % p;
  const s1 = (((left.y * right.z) % p) * rightZZ) % p;
  const s2 = (((right.y * left.z) % p) * leftZZ) % p;
  if (u1 === u2) return s1 === s2 ? double(params, left) : INFINITY;
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const hh = (h * h) % p;
  const hhh = (hh * h) % p;
  const v = (u1 * hh) % p;
  const x = mod(r * r - hhh - 2n * v, p);
  const y = mod(r * (v - x) - s1 * hhh, p);
  return { x, y, z: (((h * left.z) % p) * right.z) % p };
}

/**
 * u1·G + u2·Q in one pass over the bits (Shamir's trick), for signature verification. Not
 * constant-time: call it with public values only. Undefined when the sum is the point at infinity.
 */
export function linearCombination(params: CurveParams, u1: bigint, u2: bigint, q: Point): Point | undefined {
  const g: Jacobian = { ...basePoint(params), z: 1n };
  const qj: Jacobian = { ...q, z: 1n };
  const both = add(params, g, qj);
  let acc = INFINITY;
  for (let bit = BigInt(Math.max(u1.toString(2).length, u2.toString(2).length) - 1); bit >= 0n; bit--) {
    acc = double(params, acc);
    const takeG = (u1 >> bit) & 1n;
    const takeQ = (u2 >> bit) & 1n;
    if (takeG && takeQ) acc = add(params, acc, both);
    else if (takeG) acc = add(params, acc, g);
    else if (takeQ) acc = add(params, acc, qj);
  }
  if (acc.z === 0n) return undefined;
  const zInverse = modInverse(acc.z, params.p);
  const zz = (zInverse * zInverse) % params.p;
  return { x: (acc.x * zz) % params.p, y: (((acc.y * zz) % params.p) * zInverse) % params.p };
}
