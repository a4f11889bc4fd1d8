import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { CofferError } from '../../errors/index.js';
import { SoftwareKeyProvider } from './software-provider.js';
import type { Curve, EcPrivateJwk, OctJwk, RsaPrivateJwk } from './types.js';

/** Shared by the key-provider tests: one provider, one message, keys, and node:crypto adapters. */
export const provider = new SoftwareKeyProvider();
export const message = Buffer.from('The quick brown fox jumps over the lazy dog');
export const { RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING, RSA_PKCS1_OAEP_PADDING, RSA_NO_PADDING } =
  crypto.constants;
export const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

export const digestOf = (hash: string, data: Buffer = message) =>
  crypto.createHash(hash).update(data).digest();
export const nodeCurve = (crv: Curve) => (crv === 'P-256K' ? 'secp256k1' : crv);
export const rsaPrivate = (m: RsaPrivateJwk) => crypto.createPrivateKey({ key: { ...m }, format: 'jwk' });
export const ecPrivate = (m: EcPrivateJwk) =>
  crypto.createPrivateKey({ key: { ...m, crv: nodeCurve(m.crv) }, format: 'jwk' });
export const ecPublic = (m: EcPrivateJwk) =>
  crypto.createPublicKey({ key: { kty: 'EC', crv: nodeCurve(m.crv), x: m.x, y: m.y }, format: 'jwk' });
export const octBytes = (m: OctJwk) => Buffer.from(m.k, 'base64url');
export const flipped = (bytes: Buffer, index = 0) =>
  Buffer.from(bytes.map((b, i) => (i === index ? b ^ 1 : b)));

/** The call must fail with a 400 whose message matches, and which quotes no secret. */
export function assert400(call: () => unknown, expected: RegExp, secrets: string[] = []): void {
  assert.throws(call, is400(expected, secrets));
}

/** assert400 for the asynchronous key operations: the promise must reject that way. */
export function rejects400(call: () => Promise<unknown>, expected: RegExp, secrets: string[] = []) {
  return assert.rejects(call, is400(expected, secrets));
}

function is400(expected: RegExp, secrets: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof CofferError, `expected a CofferError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.match(error.message, expected);
    for (const secret of secrets)
      assert.ok(!error.message.includes(secret), 'the message quotes key material');
    return true;
  };
}

export const RSA_SIGNATURES = [
  ['RS256', 'sha256'],
  ['RS384', 'sha384'],
  ['RS512', 'sha512'],
  ['PS256', 'sha256'],
  ['PS384', 'sha384'],
  ['PS512', 'sha512'],
] as const;
export const EC_SIGNATURES = [
  ['ES256', 'sha256', 'P-256'],
  ['ES256K', 'sha256', 'P-256K'],
  ['ES384', 'sha384', 'P-384'],
  ['ES512', 'sha512', 'P-521'],
] as const;
export const RSA_CIPHERS = ['RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256'] as const;
export const AES_BITS = [128, 192, 256] as const;

export interface FixtureKeys {
  rsa: RsaPrivateJwk;
  ecKey(curve: Curve): EcPrivateJwk;
  octKey(bits: number): OctJwk;
}

/** An RSA-2048 key, one EC key per curve and one oct key per AES size, made by the provider. */
export async function fixtureKeys(): Promise<FixtureKeys> {
  const rsa = (await provider.generate({ kty: 'RSA', size: 2048 })) as RsaPrivateJwk;
  const ec = new Map<Curve, EcPrivateJwk>();
  const oct = new Map<number, OctJwk>();
  for (const [, , curve] of EC_SIGNATURES)
    ec.set(curve, (await provider.generate({ kty: 'EC', curve })) as EcPrivateJwk);
  for (const bits of AES_BITS) oct.set(bits, (await provider.generate({ kty: 'oct', size: bits })) as OctJwk);
  return { rsa, ecKey: (curve) => ec.get(curve) as EcPrivateJwk, octKey: (bits) => oct.get(bits) as OctJwk };
}
