import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readPkcs11, readSeal } from './pkcs11.js';

const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

describe('pkcs11 and seal settings', () => {
  it('are off unless a library is named; the environment overrides the file', () => {
    assert.equal(readPkcs11(undefined, {}), undefined);
    const settings = readPkcs11(
      { library: '/from/file.so', tokenLabel: 'file-token', sessions: 2 },
      { COFFER_PKCS11_LIBRARY: LIBRARY, COFFER_PKCS11_PIN: '1234', COFFER_PKCS11_SESSIONS: '8' },
    );
    assert.deepEqual(settings, {
      library: LIBRARY,
      slot: undefined,
      tokenLabel: 'file-token',
      pin: '1234',
      sessions: 8,
      backupKeyLabel: undefined,
    });
  });

  it('never reads a PIN from the config file, and says where to put it', () => {
    assert.throws(
      () => readPkcs11({ library: LIBRARY, tokenLabel: 't', pin: '1234' }, {}),
      /pkcs11.pin is not read from the config file.*pinEnv.*pinFile/,
    );
    assert.throws(
      () => readPkcs11({ library: LIBRARY, tokenLabel: 't' }, {}),
      /needs the token's user PIN: set COFFER_PKCS11_PIN/,
    );
    assert.throws(
      () => readPkcs11({ library: LIBRARY }, { COFFER_PKCS11_PIN: 'x' }),
      /needs tokenLabel \(preferred\) or slot/,
    );
    assert.equal(
      readPkcs11({ library: LIBRARY, tokenLabel: 't', pinEnv: 'MY_PIN' }, { MY_PIN: 'abc' })?.pin,
      'abc',
    );
  });

  it('reads a PIN file only when no one but its owner can read it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-pin-'));
    const file = path.join(dir, 'pin');
    writeFileSync(file, 's3cret\n', { mode: 0o644 });
    assert.throws(
      () => readPkcs11({ library: LIBRARY, slot: 0, pinFile: file }, {}),
      /readable by others: chmod 600 it/,
    );
    chmodSync(file, 0o600);
    const settings = readPkcs11({ library: LIBRARY, slot: 0, pinFile: file }, {});
    assert.equal(settings?.pin, 's3cret', 'the trailing newline is not part of the PIN');
    assert.equal(settings?.slot, 0);
  });

  it('the pkcs11 seal uses the pkcs11 token unless it names its own', () => {
    const token = readPkcs11({ library: LIBRARY, tokenLabel: 'keys' }, { COFFER_PKCS11_PIN: '1' });
    assert.deepEqual(readSeal(undefined, {}, token), { type: 'shamir' });
    const seal = readSeal({ type: 'pkcs11' }, {}, token);
    assert.ok(seal.type === 'pkcs11');
    assert.equal(seal.token.tokenLabel, 'keys');
    assert.equal(seal.keyLabel, 'coffer-seal');
    const own = readSeal(
      { type: 'pkcs11', tokenLabel: 'seal', pinEnv: 'SEAL_PIN', keyLabel: 'k' },
      { SEAL_PIN: '2' },
      token,
    );
    assert.ok(own.type === 'pkcs11');
    assert.deepEqual([own.token.tokenLabel, own.token.pin, own.keyLabel], ['seal', '2', 'k']);
    assert.throws(
      () => readSeal({ type: 'vault' }, {}, token),
      /seal.type must be shamir, keyvault or pkcs11/,
    );
    assert.throws(() => readSeal({ type: 'pkcs11' }, {}, undefined), /seal.library .* is required/);
  });
});
