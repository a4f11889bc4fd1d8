import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeImportValue } from './index.js';
import { type Credential, OpensslDir } from './openssl-fixtures.js';
import { assertBadParameter, assertBundle } from './test-helpers.js';

// Import values as the SDKs and other clients send them; the fixtures come from openssl.

let ws: OpensslDir;
let credential: Credential;
let pfx: Buffer;
let pem: string;

before(() => {
  ws = new OpensslDir();
  credential = ws.selfSigned('P-256');
  pfx = ws.pkcs12(credential, 'import-pass');
  pem = ws.read(credential.keyFile).toString() + ws.read(credential.certFile).toString();
});

after(() => ws.remove());

describe('decodeImportValue', () => {
  it('base64 PKCS#12, as the SDKs send it', () => {
    const result = decodeImportValue(pfx.toString('base64'), 'import-pass', 'application/x-pkcs12');
    assert.equal(result.format, 'pkcs12');
    assertBundle(result, credential);
  });

  it('base64 PKCS#12 wrapped in lines, or in the URL-safe alphabet, without a content type', () => {
    const wrapped = pfx.toString('base64').replace(/.{76}/g, '$&\r\n');
    assert.equal(decodeImportValue(wrapped, 'import-pass').format, 'pkcs12');
    assert.equal(decodeImportValue(pfx.toString('base64url'), 'import-pass').format, 'pkcs12');
  });

  it('PEM text, as the SDKs send it', () => {
    const result = decodeImportValue(pem, undefined, 'application/x-pem-file');
    assert.equal(result.format, 'pem');
    assertBundle(result, credential);
  });

  it('base64 of PEM text, as some clients send it, whatever the content type says', () => {
    const result = decodeImportValue(Buffer.from(pem).toString('base64'), undefined, 'application/x-pkcs12');
    assert.equal(result.format, 'pem');
    assertBundle(result, credential);
  });

  it('passes the password on, and the decoder errors through', () => {
    assertBadParameter(() => decodeImportValue(pfx.toString('base64'), 'wrong'), /password does not open/);
    assertBadParameter(() => decodeImportValue(Buffer.from('junk').toString('base64') + 'AAAA'), /neither/);
  });

  it('rejects what is neither PEM nor base64 PKCS#12, worded for the content type', () => {
    assertBadParameter(
      () => decodeImportValue('hello, world'),
      /neither a base64-encoded PKCS#12 \(PFX\) file nor PEM/,
    );
    assertBadParameter(() => decodeImportValue('', undefined, 'application/x-pem-file'), /not PEM/);
    assertBadParameter(() => decodeImportValue('MIIB', undefined), /not a valid PKCS#12/);
  });
});
