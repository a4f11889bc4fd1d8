import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { type CurveParams, curveParams, toBigInt } from './ec-curves.js';
import { ecdsaSign, ecdsaVerify } from './ecdsa.js';
import { EC_SIGNATURES, flipped } from './provider-fixtures.js';
import type { Curve } from './types.js';

// ecdsaSign signs a digest; node:crypto and the openssl CLI, which share none of its code, check
// every signature: crypto.verify(hash, message) hashes the message itself and so verifies exactly
// the prehash signature, and openssl pkeyutl verifies a raw digest of any length.

const ORDERS: Record<Curve, bigint> = {
  'P-256': p256.Point.Fn.ORDER,
  'P-256K': secp256k1.Point.Fn.ORDER,
  'P-384': p384.Point.Fn.ORDER,
  'P-521': p521.Point.Fn.ORDER,
};

interface TestKey {
  params: CurveParams;
  d: Buffer;
  point: { x: Buffer; y: Buffer };
  publicKey: crypto.KeyObject;
}

function fixedWidth(field: string | undefined, bytes: number): Buffer {
  const raw = Buffer.from(field ?? '', 'base64url');
  assert.ok(raw.length > 0 && raw.length <= bytes);
  return Buffer.concat([Buffer.alloc(bytes - raw.length), raw]);
}

function testKey(curve: Curve): TestKey {
  const params = curveParams(curve);
  assert.ok(params);
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: params.nodeName });
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    params,
    d: fixedWidth(jwk.d, params.bytes),
    point: { x: fixedWidth(jwk.x, params.bytes), y: fixedWidth(jwk.y, params.bytes) },
    publicKey,
  };
}

function nodeVerifies(key: TestKey, hash: string, message: Buffer, signature: Buffer): boolean {
  return crypto.verify(hash, message, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}

/** r||s with r and s each in [1, n − 1], and s in the low half (as noble produced it). */
function assertWellFormed(key: TestKey, signature: Buffer): void {
  const { bytes, name } = key.params;
  assert.equal(signature.length, 2 * bytes);
  const n = ORDERS[name];
  const r = toBigInt(signature.subarray(0, bytes));
  const s = toBigInt(signature.subarray(bytes));
  assert.ok(r >= 1n && r < n, 'r in [1, n − 1]');
  assert.ok(s >= 1n && s <= n >> 1n, 's in [1, n/2]');
}

/** A random bit position among the first `length` bytes. */
const randomBit = (length: number) => crypto.randomInt(length * 8);
/** A copy with one bit changed; positions count from the most significant bit of the first byte. */
const flippedBit = (bytes: Buffer, position: number) =>
  Buffer.from(bytes.map((b, i) => (i === position >> 3 ? b ^ (0x80 >> (position & 7)) : b)));

describe('ecdsaSign', () => {
  for (const [alg, hash, curve] of EC_SIGNATURES) {
    it(`${alg}: 200 signatures of ${hash} digests verify with node:crypto and ecdsaVerify`, () => {
      const key = testKey(curve);
      for (let i = 0; i < 200; i++) {
        const message = crypto.randomBytes(crypto.randomInt(0, 200));
        const digest = crypto.createHash(hash).update(message).digest();
        const signature = ecdsaSign(key.params, key.d, digest);
        assertWellFormed(key, signature);
        assert.ok(nodeVerifies(key, hash, message, signature), `node:crypto rejects signature ${i}`);
        assert.ok(ecdsaVerify(key.params, key.point, digest, signature));
        const badSignature = flippedBit(signature, randomBit(signature.length));
        assert.equal(ecdsaVerify(key.params, key.point, digest, badSignature), false);
        assert.equal(nodeVerifies(key, hash, message, badSignature), false);
        const badDigest = flippedBit(digest, randomBit(digest.length));
        assert.equal(ecdsaVerify(key.params, key.point, badDigest, signature), false);
      }
    });
  }

  for (const [, , curve] of EC_SIGNATURES) {
    it(`${curve}: digests shorter and longer than the order are taken as bits2int (leftmost bits)`, () => {
      // OpenSSL truncates a digest longer than the order to its leftmost bits, as FIPS 186 says.
      const key = testKey(curve);
      for (const hash of ['sha1', 'sha256', 'sha384', 'sha512']) {
        for (let i = 0; i < 20; i++) {
          const message = crypto.randomBytes(64);
          const digest = crypto.createHash(hash).update(message).digest();
          const signature = ecdsaSign(key.params, key.d, digest);
          assertWellFormed(key, signature);
          assert.ok(nodeVerifies(key, hash, message, signature), `${hash} on ${curve}`);
          assert.ok(ecdsaVerify(key.params, key.point, digest, signature));
        }
      }
    });

    it(`${curve}: two signatures of one digest differ, and both verify`, () => {
      const key = testKey(curve);
      const message = Buffer.from('one message');
      const hash = EC_SIGNATURES.find((entry) => entry[2] === curve)?.[1] ?? 'sha256';
      const digest = crypto.createHash(hash).update(message).digest();
      const signatures = Array.from({ length: 8 }, () => ecdsaSign(key.params, key.d, digest));
      const rs = new Set(
        signatures.map((signature) => signature.subarray(0, key.params.bytes).toString('hex')),
      );
      assert.equal(rs.size, signatures.length, 'every signature has its own nonce');
      for (const signature of signatures) assert.ok(nodeVerifies(key, hash, message, signature));
    });
  }

  it('a 64-byte digest on P-256 signs its leftmost 256 bits', () => {
    const key = testKey('P-256');
    const message = Buffer.from('a digest longer than the order');
    const digest = crypto.createHash('sha512').update(message).digest();
    const signature = ecdsaSign(key.params, key.d, digest);
    assert.ok(nodeVerifies(key, 'sha512', message, signature));
    // noble's verify (prehash: false) of the digest and of its truncation alike.
    assert.ok(ecdsaVerify(key.params, key.point, digest, signature));
    assert.ok(ecdsaVerify(key.params, key.point, digest.subarray(0, 32), signature));
    assert.equal(ecdsaVerify(key.params, key.point, flipped(digest, 31), signature), false);
    // Bits past the 256th do not count.
    assert.ok(ecdsaVerify(key.params, key.point, flipped(digest, 40), signature));
  });

  it('a 66-byte digest on P-521 signs its leftmost 521 bits: bits2int drops 7 bits, not whole bytes', () => {
    const key = testKey('P-521');
    const message = Buffer.from('a digest 7 bits longer than the order');
    const hash = crypto.createHash('sha512').update(message).digest();
    // D = hash · 2⁷ + 7 random bits, in 66 bytes: bits2int(D) = D >> 7 = hash, which node:crypto
    // computes from the message on its own.
    const shifted = (toBigInt(hash) << 7n) | BigInt(crypto.randomInt(128));
    const digest = Buffer.from(shifted.toString(16).padStart(132, '0'), 'hex');
    assert.equal(digest.length, 66);
    for (let i = 0; i < 10; i++) {
      const signature = ecdsaSign(key.params, key.d, digest);
      assert.ok(nodeVerifies(key, 'sha512', message, signature));
      assert.ok(ecdsaVerify(key.params, key.point, digest, signature));
      // Changing a dropped bit changes nothing; changing the 521st bit does.
      assert.ok(
        ecdsaVerify(key.params, key.point, flippedBit(digest, crypto.randomInt(521, 528)), signature),
      );
      assert.equal(ecdsaVerify(key.params, key.point, flippedBit(digest, 520), signature), false);
    }
  });

  it('rejects a private scalar that is zero, not below n, or of the wrong length', () => {
    const params = curveParams('P-256');
    assert.ok(params);
    const digest = crypto.randomBytes(32);
    const n = Buffer.from(ORDERS['P-256'].toString(16), 'hex');
    assert.throws(() => ecdsaSign(params, Buffer.alloc(32), digest));
    assert.throws(() => ecdsaSign(params, n, digest));
    assert.throws(() => ecdsaSign(params, Buffer.alloc(32, 0xff), digest));
    assert.throws(() => ecdsaSign(params, Buffer.alloc(31, 1), digest));
    assert.throws(() => ecdsaSign(params, Buffer.alloc(33, 1), digest));
  });

  it('does not modify the private scalar or the digest it is given', () => {
    const key = testKey('P-384');
    const d = Buffer.from(key.d);
    const digest = crypto.randomBytes(48);
    const digestCopy = Buffer.from(digest);
    ecdsaSign(key.params, key.d, digest);
    assert.deepEqual(key.d, d);
    assert.deepEqual(digest, digestCopy);
  });
});

describe('ecdsaVerify', () => {
  it('rejects a signature of the wrong length, or with r or s zero', () => {
    const key = testKey('P-256');
    const digest = crypto.randomBytes(32);
    const signature = ecdsaSign(key.params, key.d, digest);
    assert.equal(ecdsaVerify(key.params, key.point, digest, signature.subarray(1)), false);
    assert.equal(
      ecdsaVerify(key.params, key.point, digest, Buffer.concat([signature, Buffer.alloc(1)])),
      false,
    );
    const zeroR = Buffer.concat([Buffer.alloc(32), signature.subarray(32)]);
    assert.equal(ecdsaVerify(key.params, key.point, digest, zeroR), false);
    const zeroS = Buffer.concat([signature.subarray(0, 32), Buffer.alloc(32)]);
    assert.equal(ecdsaVerify(key.params, key.point, digest, zeroS), false);
  });

  it('accepts a high-S signature (n − s), as OpenSSL and HSMs produce them', () => {
    const key = testKey('P-256');
    const message = Buffer.from('high S');
    const digest = crypto.createHash('sha256').update(message).digest();
    const signature = ecdsaSign(key.params, key.d, digest);
    const s = toBigInt(signature.subarray(32));
    const highS = Buffer.from((ORDERS['P-256'] - s).toString(16).padStart(64, '0'), 'hex');
    const high = Buffer.concat([signature.subarray(0, 32), highS]);
    assert.ok(nodeVerifies(key, 'sha256', message, high));
    assert.ok(ecdsaVerify(key.params, key.point, digest, high));
  });
});

/** An ASN.1 DER INTEGER of an unsigned big-endian value. */
function derInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  let body = value.subarray(start);
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.alloc(1), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/** JWS r||s as the DER Ecdsa-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }) openssl reads. */
function p1363ToDer(signature: Buffer, bytes: number): Buffer {
  const content = Buffer.concat([
    derInteger(signature.subarray(0, bytes)),
    derInteger(signature.subarray(bytes)),
  ]);
  const length = content.length < 0x80 ? [content.length] : [0x81, content.length];
  return Buffer.concat([Buffer.from([0x30, ...length]), content]);
}

const opensslMissing = spawnSync('openssl', ['version']).status !== 0;

describe('the openssl CLI verifies the raw digest', { skip: opensslMissing && 'no openssl CLI' }, () => {
  const cases: [Curve, number][] = [
    ['P-256', 32],
    ['P-256', 64],
    ['P-256K', 32],
    ['P-384', 48],
    ['P-521', 64],
    // pkeyutl refuses more than 64 bytes ("too long to be a hash"): for P-521's 66, see above.
  ];
  for (const [curve, digestBytes] of cases) {
    it(`${curve}, ${digestBytes}-byte digest`, () => {
      const key = testKey(curve);
      const dir = mkdtempSync(path.join(tmpdir(), 'coffer-ecdsa-'));
      try {
        const pub = path.join(dir, 'pub.pem');
        const digestFile = path.join(dir, 'digest.bin');
        const sigFile = path.join(dir, 'sig.der');
        writeFileSync(pub, key.publicKey.export({ format: 'pem', type: 'spki' }));
        const openssl = (digest: Buffer, signature: Buffer) => {
          writeFileSync(digestFile, digest);
          writeFileSync(sigFile, p1363ToDer(signature, key.params.bytes));
          const args = [
            'pkeyutl',
            '-verify',
            '-pubin',
            '-inkey',
            pub,
            '-in',
            digestFile,
            '-sigfile',
            sigFile,
          ];
          return spawnSync('openssl', args, { encoding: 'utf8' });
        };
        for (let i = 0; i < 5; i++) {
          const digest = crypto.randomBytes(digestBytes);
          const signature = ecdsaSign(key.params, key.d, digest);
          const accepted = openssl(digest, signature);
          assert.equal(accepted.status, 0, accepted.stdout + accepted.stderr);
          assert.match(accepted.stdout, /Signature Verified Successfully/);
          // A changed bit among the leftmost N (whole bytes of them) must fail.
          const significant = Math.min(digestBytes, Math.floor(key.params.bits / 8));
          const rejected = openssl(flippedBit(digest, randomBit(significant)), signature);
          assert.notEqual(rejected.status, 0, 'openssl accepts a changed digest');
          const { bits } = key.params;
          if (digestBytes * 8 > bits) {
            // The bits past the Nth are dropped by bits2int, so changing them changes nothing...
            const beyond = openssl(flippedBit(digest, crypto.randomInt(bits, digestBytes * 8)), signature);
            assert.equal(beyond.status, 0, beyond.stdout + beyond.stderr);
            // ...while the Nth bit itself counts.
            const changed = openssl(flippedBit(digest, bits - 1), signature);
            assert.notEqual(changed.status, 0, 'openssl accepts a change in the last significant bit');
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
