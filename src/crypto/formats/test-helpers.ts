import assert from 'node:assert/strict';
import { createPrivateKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { BadParameter } from '../../errors/index.js';
import type { CertificateBundleParts } from './bundle.js';
import type { Credential } from './openssl-fixtures.js';

/** Assertions the format tests share; every check goes through node:crypto, not the code under test. */

export function assertBadParameter(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof BadParameter, `expected BadParameter, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

/** The PKCS#8 is the same key: same DER once node:crypto normalises both, and it signs for the certificate. */
export function assertSameKey(
  pkcs8: Buffer | undefined,
  expected: KeyObject,
  certificate: X509Certificate,
): void {
  assert.ok(pkcs8, 'a private key');
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  assert.deepEqual(
    key.export({ type: 'pkcs8', format: 'der' }),
    expected.export({ type: 'pkcs8', format: 'der' }),
  );
  const message = Buffer.from('signed by the recovered key');
  const signature = sign('sha256', message, key);
  assert.ok(
    verify('sha256', message, certificate.publicKey, signature),
    'the certificate verifies the signature',
  );
}

export function assertBundle(
  parts: CertificateBundleParts,
  credential: Credential,
  ...chain: X509Certificate[]
): void {
  assertSameKey(parts.privateKeyPkcs8, credential.key, credential.certificate);
  assert.deepEqual(
    parts.certificates,
    [credential.certificate, ...chain].map((certificate) => certificate.raw),
  );
}

/** The blocks with this label in PEM text, in order. */
export function pemBlocks(text: string, label: string): string[] {
  return [...text.matchAll(new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g'))].map(
    ([block]) => block,
  );
}

/** What openssl recovered (its PEM output) is the given key and certificates, in that order. */
export function assertOpensslRead(text: string, credential: Credential, ...chain: X509Certificate[]): void {
  const [keyPem, ...otherKeys] = pemBlocks(text, 'PRIVATE KEY');
  assert.ok(keyPem, 'openssl found the key');
  assert.equal(otherKeys.length, 0);
  assertSameKey(
    createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' }),
    credential.key,
    credential.certificate,
  );
  const certificates = pemBlocks(text, 'CERTIFICATE').map((pem) => new X509Certificate(pem).raw);
  assert.deepEqual(
    certificates,
    [credential.certificate, ...chain].map((certificate) => certificate.raw),
  );
}
