import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { curveParams } from '../keys/ec-curves.js';
import { importPrivateJwk } from '../keys/jwk.js';
import { CURVES, type StoredKeyMaterial } from '../keys/types.js';
import { jwkFromPkcs8, pkcs8FromJwk, publicKeyMatches, spkiFromPublicJwk } from './index.js';
import { type Credential, KEY_KINDS, OpensslDir } from './openssl-fixtures.js';
import { assertBadParameter } from './test-helpers.js';

// Key conversions checked against node:crypto's own export of the same key.

const pkcs8Of = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'der' });

/** Stored material as the keys service makes it: node's JWK, Azure's curve name, validated. */
function storedMaterial(key: KeyObject): StoredKeyMaterial {
  const jwk = key.export({ format: 'jwk' });
  const curve = CURVES.find((name) => curveParams(name)?.jwkCrv === jwk.crv);
  return importPrivateJwk(curve ? { ...jwk, crv: curve } : jwk);
}

const keys: Record<string, KeyObject> = {
  'RSA 2048': generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  'RSA 3072': generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey,
  ...Object.fromEntries(
    CURVES.map((curve) => [
      curve,
      generateKeyPairSync('ec', { namedCurve: curveParams(curve)?.nodeName ?? '' }).privateKey,
    ]),
  ),
};

let ws: OpensslDir;
const credentials: Credential[] = [];

before(() => {
  ws = new OpensslDir();
  for (const kind of KEY_KINDS) credentials.push(ws.selfSigned(kind));
});

after(() => ws.remove());

describe('pkcs8FromJwk and jwkFromPkcs8', () => {
  for (const [name, key] of Object.entries(keys)) {
    it(`${name}: round trip, and the same key as node:crypto's`, () => {
      const material = storedMaterial(key);
      const pkcs8 = pkcs8FromJwk(material);
      assert.deepEqual(pkcs8, pkcs8Of(key));
      assert.deepEqual(jwkFromPkcs8(pkcs8), material);
    });
  }

  it("names secp256k1 'P-256K', as Azure does", () => {
    const material = jwkFromPkcs8(pkcs8Of(keys['P-256K'] as KeyObject));
    assert.equal(material.kty === 'EC' && material.crv, 'P-256K');
  });

  it('reads the keys openssl generates, with every RSA CRT field', () => {
    for (const { pkcs8, key } of credentials) {
      const material = jwkFromPkcs8(pkcs8);
      assert.deepEqual(pkcs8FromJwk(material), pkcs8Of(key));
      if (material.kty === 'RSA')
        assert.deepEqual(Object.keys(material).sort(), ['d', 'dp', 'dq', 'e', 'kty', 'n', 'p', 'q', 'qi']);
    }
  });

  it('refuses other key types and curves, naming the supported ones', () => {
    const others = [
      generateKeyPairSync('ed25519').privateKey,
      generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey,
      generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey,
      generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }).privateKey,
    ];
    for (const key of others) {
      assertBadParameter(
        () => jwkFromPkcs8(pkcs8Of(key)),
        /supported: RSA \(2048 to 4096 bits\) and EC on P-256, P-256K, P-384, P-521/,
      );
    }
    assertBadParameter(
      () => jwkFromPkcs8(pkcs8Of(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)),
      /2048 to 4096 bits/,
    );
    assertBadParameter(() => jwkFromPkcs8(Buffer.from('not a key')), /not a valid PKCS#8 private key/);
  });

  it('refuses oct keys', () => {
    assertBadParameter(() => pkcs8FromJwk({ kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAA' }), /not oct/);
  });
});

describe('spkiFromPublicJwk', () => {
  for (const [name, key] of Object.entries(keys)) {
    it(`${name}: the SubjectPublicKeyInfo node:crypto exports`, () => {
      const material = storedMaterial(key);
      const publicJwk =
        material.kty === 'RSA'
          ? { kty: 'RSA' as const, n: material.n, e: material.e }
          : material.kty === 'EC'
            ? { kty: 'EC' as const, crv: material.crv, x: material.x, y: material.y }
            : { kty: 'oct' as const };
      assert.deepEqual(
        spkiFromPublicJwk(publicJwk),
        createPublicKey(key).export({ type: 'spki', format: 'der' }),
      );
    });
  }

  it('refuses oct and broken keys', () => {
    assertBadParameter(() => spkiFromPublicJwk({ kty: 'oct' }), /oct key has no public key/);
    assertBadParameter(
      () => spkiFromPublicJwk({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }),
      /public EC key is not valid/,
    );
  });
});

describe('publicKeyMatches', () => {
  it('is true for a certificate and its key, false for another key', () => {
    const [first, second] = credentials as [Credential, Credential];
    assert.equal(publicKeyMatches(first.pkcs8, first.certificate.raw), true);
    assert.equal(publicKeyMatches(second.pkcs8, first.certificate.raw), false);
    assert.equal(
      publicKeyMatches(pkcs8Of(createPrivateKey(ws.read(second.keyFile))), second.certificate.raw),
      true,
    );
  });

  it('refuses what is not a key or a certificate', () => {
    const [first] = credentials as [Credential];
    assertBadParameter(() => publicKeyMatches(Buffer.from('x'), first.certificate.raw), /not a valid PKCS#8/);
    assertBadParameter(
      () => publicKeyMatches(first.pkcs8, Buffer.from('x')),
      /not a valid X.509 certificate/,
    );
  });
});
