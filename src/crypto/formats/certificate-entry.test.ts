import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { certificatesOfEntry } from './index.js';
import { type Credential, OpensslDir } from './openssl-fixtures.js';
import { assertBadParameter } from './test-helpers.js';

// Entries of a merge's x5c in every form clients send, written by the openssl CLI.

let ws: OpensslDir;
let ca: Credential;
let leaf: Credential;

before(() => {
  ws = new OpensslDir();
  ca = ws.selfSigned('P-256', '/CN=Entry Test CA');
  leaf = ws.issued('rsa', ca);
});

after(() => ws.remove());

const pemFile = (credential: Credential) => ws.read(credential.certFile).toString();

describe('certificatesOfEntry', () => {
  it('takes the DER as it is', () => {
    assert.deepEqual(certificatesOfEntry(leaf.certificate.raw, 'x5c[0]'), [leaf.certificate.raw]);
  });

  it('takes PEM text, with several certificates in order', () => {
    const text = Buffer.from(pemFile(leaf) + pemFile(ca));
    assert.deepEqual(certificatesOfEntry(text, 'x5c[0]'), [leaf.certificate.raw, ca.certificate.raw]);
  });

  it('takes the base64 text of the DER, as the JavaScript merge sample sends it (the END line included)', () => {
    // The sample: readFileSync("test.crt").toString().split("\n").slice(1, -1).join("")
    const sample = pemFile(leaf).split('\n').slice(1, -1).join('');
    assert.match(sample, /-----END CERTIFICATE-----$/);
    assert.deepEqual(certificatesOfEntry(Buffer.from(sample), 'x5c[0]'), [leaf.certificate.raw]);
    const wrapped = leaf.certificate.raw.toString('base64').replace(/.{64}/g, '$&\r\n');
    assert.deepEqual(certificatesOfEntry(Buffer.from(wrapped), 'x5c[0]'), [leaf.certificate.raw]);
  });

  it('refuses binary that is not DER, text that is not base64, and base64 of something else', () => {
    for (const entry of [
      Buffer.from([0x04, 0x82, 0x01, 0x00, 0xff]),
      Buffer.from('not a certificate at all'),
      Buffer.from(Buffer.from('plain words').toString('base64')),
      Buffer.from(''),
    ]) {
      assertBadParameter(() => certificatesOfEntry(entry, 'x5c[1]'), /^x5c\[1\] is not a certificate/);
    }
  });
});
