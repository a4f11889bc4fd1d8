import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from './load.js';

describe('config: storage and seal sections', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const withFile = (content: unknown) => {
    const file = path.join(dir, `config-${++files}.json`);
    writeFileSync(file, JSON.stringify(content));
    return file;
  };
  const load = (content: unknown, env: NodeJS.ProcessEnv = {}) =>
    loadConfig({ dev: false, configFile: withFile(content), dataDir: dir }, env);

  it('keeps SQLite in the data dir by default, and selects PostgreSQL by file or environment', () => {
    assert.deepEqual(load({}).storage, { type: 'sqlite', file: path.join(dir, 'coffer.db'), cacheMiB: 32 });
    const fromFile = load({ storage: { postgres: { url: 'postgres://u:p@db/coffer', maxConnections: 4 } } });
    assert.deepEqual(fromFile.storage, {
      type: 'postgres',
      url: 'postgres://u:p@db/coffer',
      readReplicaUrl: undefined,
      maxConnections: 4,
      statementTimeoutMs: 5000,
      cacheMiB: 32,
    });
    const fromEnv = load(
      {},
      {
        COFFER_STORAGE_URL: 'postgresql://db1/coffer',
        COFFER_STORAGE_READ_REPLICA_URL: 'postgres://db2/coffer',
      },
    ).storage;
    assert.equal(fromEnv.type, 'postgres');
    assert.equal(fromEnv.type === 'postgres' && fromEnv.readReplicaUrl, 'postgres://db2/coffer');
  });

  it('refuses a bad storage section, naming the setting and never repeating a password', () => {
    assert.throws(
      () => load({ storage: { postgres: { url: 'mysql://u:hunter2@db/x' } } }),
      (error: Error) => {
        assert.match(error.message, /storage\.postgres\.url .* must start with postgres:\/\//);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
    assert.throws(() => load({ storage: { postgres: { url: 'postgres://db' } } }), /must name the database/);
    assert.throws(
      () => load({ storage: { postgres: { url: 'postgres://db/x', poolSize: 3 } } }),
      /unknown setting\(s\) storage\.postgres\.poolSize/,
    );
    assert.throws(
      () => load({ storage: { postgres: { url: 'postgres://db/x', maxConnections: 0 } } }),
      /maxConnections must be a whole number from 1/,
    );
  });

  it('reads a keyvault seal, with its secret from the environment when set, and says what is missing', () => {
    const seal = {
      type: 'keyvault',
      vaultUrl: 'https://unseal.vault.azure.net/',
      keyName: 'coffer',
      credentials: { tenantId: 't', clientId: 'c', clientSecret: 'in-file' },
    };
    assert.deepEqual(load({ seal }).seal, {
      type: 'keyvault',
      vaultUrl: 'https://unseal.vault.azure.net',
      keyName: 'coffer',
      keyVersion: undefined,
      algorithm: 'RSA-OAEP-256',
      credentials: {
        tenantId: 't',
        clientId: 'c',
        clientSecret: 'in-file',
        authorityHost: undefined,
        caFile: undefined,
      },
    });
    const fromEnv = load(
      { seal: { ...seal, credentials: { tenantId: 't', clientId: 'c' } } },
      { COFFER_SEAL_CLIENT_SECRET: 'from-env' },
    );
    assert.equal(fromEnv.seal.type === 'keyvault' && fromEnv.seal.credentials.clientSecret, 'from-env');
    assert.deepEqual(load({}).seal, { type: 'shamir' });
    assert.throws(() => load({ seal: { ...seal, keyName: undefined } }), /seal\.keyName is required/);
    assert.throws(
      () => load({ seal: { ...seal, vaultUrl: 'http://plain' } }),
      /seal\.vaultUrl must be an https:\/\/ URL/,
    );
    assert.throws(() => load({ seal: { ...seal, algorithm: 'RSA1_5' } }), /seal\.algorithm must be one of/);
    assert.throws(() => load({ seal: { type: 'hsm' } }), /seal\.type must be shamir, keyvault or pkcs11/);
  });
});
