import assert from 'node:assert/strict';
import {
  X509Certificate,
  constants,
  createPublicKey,
  type JsonWebKey,
  publicEncrypt,
  verify,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { cofferJson } from './helpers/coffer-cli.js';
import { PYTHON, pythonScenario } from './helpers/python.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// The Azure SDK for Python as Debian 12 ships it (python3-azure: azure-keyvault-secrets 4.7.0b1,
// -keys 4.8.0b3, -certificates 4.7.0b1, -administration 4.3.0b2, azure-identity 1.13.0b2), with
// DEFAULT client options, against a real dev server. Each scenario is a python3 script
// (test/python/scenario.py) that prints what it found; results are checked here, cryptography with
// node:crypto. KeyVaultSettingsClient and KeyVaultBackupClient (full backup) are driven from
// test/hsm-backup.e2e.test.ts with the same scenario script.

const b64url = (base64: string) => Buffer.from(base64, 'base64').toString('base64url');

describe("Debian's Azure SDK for Python (python3-azure) with default options", () => {
  let server: DevServer;

  const python = <T>(scenario: string, ...args: string[]) => pythonScenario<T>(server, scenario, ...args);

  before(async () => {
    server = await startDevServer();
    const found = await python<Record<string, string>>('versions').catch((error: unknown) => {
      throw new Error(
        `${PYTHON} cannot import the Azure SDK: install Debian's python3-azure (apt-get install python3-azure; .ci/run does).`,
        { cause: error },
      );
    });
    // Debian 12's releases, which send 7.3 (secrets, certificates) and 7.4-preview.1 (keys,
    // administration) by default: what the assertions below were written against.
    assert.deepEqual(
      found,
      { secrets: '4.7.0b1', keys: '4.8.0b3', certificates: '4.7.0b1', administration: '4.3.0b2' },
      'python3-azure is not the release this suite was written for: check what changed, then update these versions',
    );
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('secrets: set, versions, update, list, backup, delete, recover, purge, restore', async () => {
    const result = await python<{
      latest: string;
      older: string;
      contentType: string;
      tags: Record<string, string>;
      olderEnabledAfterUpdate: boolean;
      versions: string[];
      expectedVersions: string[];
      names: string[];
      deletedRecoveryId: string;
      deletedAgainName: string;
      recoveredName: string;
      restoredValue: string;
    }>('secrets');
    assert.equal(result.latest, 'second value');
    assert.equal(result.older, 'from python');
    assert.equal(result.contentType, 'text/plain');
    assert.deepEqual(result.tags, { lang: 'python' });
    assert.equal(result.olderEnabledAfterUpdate, false);
    assert.deepEqual(result.versions, result.expectedVersions);
    assert.ok(result.names.includes('py-secret'));
    assert.equal(result.deletedRecoveryId, `${server.facts.vaultUrl}/deletedsecrets/py-secret`);
    assert.equal(result.deletedAgainName, 'py-secret');
    assert.equal(result.recoveredName, 'py-secret');
    assert.equal(result.restoredValue, 'second value');
    // What Python wrote, the JavaScript SDK reads.
    assert.equal((await server.secrets().getSecret('py-secret')).value, 'second value');
  });

  describe('keys and cryptography (the SDK sends api-version 7.4-preview.1)', () => {
    let keys: {
      rsa: { id: string; kty: string; n: string; e: string };
      ec: { id: string; crv: string; x: string; y: string };
      ecTags: Record<string, string>;
      rotatedVersionDiffers: boolean;
      names: string[];
      deletedRecoveryId: string;
      recoveredName: string;
    };

    before(async () => {
      keys = await python('keys');
    });

    it('creates RSA and EC keys, updates, rotates, lists, deletes and recovers them', () => {
      assert.equal(keys.rsa.kty, 'RSA');
      assert.match(keys.rsa.id, new RegExp(`^${server.facts.vaultUrl}/keys/py-rsa/[0-9a-f]{32}$`));
      assert.equal(Buffer.from(keys.rsa.n, 'base64').length, 256, 'a 2048-bit modulus');
      assert.equal(keys.ec.crv, 'P-256');
      assert.deepEqual(keys.ecTags, { lang: 'python' });
      assert.equal(keys.rotatedVersionDiffers, true);
      assert.deepEqual(
        keys.names.filter((name) => name.startsWith('py-')),
        ['py-ec', 'py-rsa'],
      );
      assert.equal(keys.deletedRecoveryId, `${server.facts.vaultUrl}/deletedkeys/py-ec`);
      assert.equal(keys.recoveredName, 'py-ec');
    });

    it('decrypts what node:crypto encrypted, and signs what node:crypto verifies', async () => {
      const rsa = createPublicKey({
        key: { kty: 'RSA', n: b64url(keys.rsa.n), e: b64url(keys.rsa.e) } as JsonWebKey,
        format: 'jwk',
      });
      const ciphertext = publicEncrypt(
        { key: rsa, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        Buffer.from('sealed by node:crypto'),
      );
      const result = await python<{
        decrypted: string;
        roundtrip: string;
        rs256: string;
        es256: string;
        es256VerifiedByVault: boolean;
        es256VerifiedByCryptography: boolean;
      }>('crypto', keys.rsa.id, keys.ec.id, ciphertext.toString('base64'));
      assert.equal(result.decrypted, 'sealed by node:crypto');
      assert.equal(result.roundtrip, 'round trip through python');

      const message = Buffer.from('signed from python');
      assert.ok(verify('sha256', message, rsa, Buffer.from(result.rs256, 'base64')), 'RS256 verifies');
      const ec = createPublicKey({
        key: { kty: 'EC', crv: 'P-256', x: b64url(keys.ec.x), y: b64url(keys.ec.y) } as JsonWebKey,
        format: 'jwk',
      });
      const es256 = Buffer.from(result.es256, 'base64');
      assert.equal(es256.length, 64, 'r || s');
      assert.ok(verify('sha256', message, { key: ec, dsaEncoding: 'ieee-p1363' }, es256), 'ES256 verifies');
      assert.equal(result.es256VerifiedByVault, true);
      assert.equal(result.es256VerifiedByCryptography, true);
    });
  });

  it("certificates: the create poller's result is the certificate; includePending lists the pending one", async () => {
    const result = await python<{
      createdType: string;
      cer: string;
      version: string;
      fetchedVersion: string;
      subject: string;
      dnsNames: string[];
      pendingStatus: string;
      pendingCsr: string;
      pendingPollerDone: boolean;
      listed: string[];
      listedWithPending: string[];
    }>('certificates');
    assert.equal(result.createdType, 'KeyVaultCertificate', 'result() returns the certificate, not None');
    const x509 = new X509Certificate(Buffer.from(result.cer, 'base64'));
    assert.equal(x509.subject, 'CN=py-cert');
    assert.equal(x509.subjectAltName, 'DNS:py.example');
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    assert.match(result.version, /^[0-9a-f]{32}$/);
    assert.equal(result.fetchedVersion, result.version);
    assert.equal(result.subject, 'CN=py-cert');
    assert.deepEqual(result.dnsNames, ['py.example']);
    assert.equal(result.pendingStatus, 'inProgress');
    assert.ok(Buffer.from(result.pendingCsr, 'base64').length > 100, 'a CSR to sign elsewhere');
    assert.equal(result.pendingPollerDone, true, "the SDK's poller stops at once for issuer Unknown");
    assert.deepEqual(result.listed, ['py-cert']);
    assert.deepEqual(result.listedWithPending, ['py-cert', 'py-pending']);
  });

  it('RBAC: KeyVaultAccessControlClient lists role definitions and manages an assignment that takes effect', async () => {
    const reader = await cofferJson<{ objectId: string; clientId: string; clientSecret: string }>(
      server.dataDir,
      ['sp', 'create', '--name', 'py-reader'],
    );
    await server.secrets().setSecret('for-py-reader', 'granted through python');
    const result = await python<{
      definitionNames: string[];
      secretsUserId: string;
      assignmentName: string;
      assignmentPrincipal: string;
      assignmentRole: string;
      assignmentScope: string;
      listed: boolean;
    }>('rbac', reader.objectId);
    assert.ok(result.definitionNames.includes('Key Vault Secrets User'));
    assert.ok(result.definitionNames.includes('Key Vault Administrator'));
    assert.equal(result.assignmentPrincipal, reader.objectId);
    assert.equal(result.assignmentRole, result.secretsUserId);
    assert.equal(result.assignmentScope, '/');
    assert.equal(result.listed, true);

    const read = await python<{ value: string }>(
      'read-secret',
      reader.clientId,
      reader.clientSecret,
      'for-py-reader',
    );
    assert.equal(read.value, 'granted through python');
    const removed = await python<{ listed: boolean }>('rbac-delete', result.assignmentName);
    assert.equal(removed.listed, false);
  });
});
