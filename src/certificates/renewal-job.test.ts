import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackupCodec } from '../backup/backup-codec.js';
import { Barrier } from '../barrier/barrier.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { RoutingKeyProvider } from '../crypto/keys/routing-provider.js';
import { SoftwareKeyProvider } from '../crypto/keys/software-provider.js';
import { DAY_MS, ManualClock } from '../lib/clock.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createVaultService } from '../vaults/service.js';
import type { VaultRecord } from '../vaults/types.js';
import { type CertificateExpiryNotice, certificateRenewalSweep } from './renewal-job.js';
import { createCertificateService } from './service.js';

// Lifetime actions act over months: the sweep runs on an injected clock, over real storage, the
// real key provider and real X.509 issuance, one vault per case so the cases cannot see each other.
describe('certificate renewal sweep', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-renewal-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const storage = new SqliteStorage(path.join(dir, 'coffer.db'));
  const barrier = new Barrier(storage, clock);
  const backupKey = randomKey();
  const vaults = createVaultService({ system: barrier.view('sys/'), clock, eraseData: async () => {} });
  const certificates = createCertificateService({
    vaultStore: (vault) => barrier.view(`data/${vault.id}/`),
    backupCodec: createBackupCodec(() => backupKey),
    clock,
    provider: new RoutingKeyProvider(new SoftwareKeyProvider()),
  });
  const notices: CertificateExpiryNotice[] = [];
  const failures: string[] = [];
  const sweep = certificateRenewalSweep({
    certificates,
    clock,
    notify: async (_vault, notice) => {
      notices.push(notice);
    },
    onError: (_error, certificate) => failures.push(certificate),
  });
  const x509Of = (cer: string) => new X509Certificate(Buffer.from(cer, 'base64'));
  const latest = async (vault: VaultRecord, name: string) => (await certificates.resolve(vault, name)).record;
  const versionCount = async (vault: VaultRecord, name: string) =>
    (await certificates.listVersions(vault, name, undefined, 25)).items.length;

  before(async () => {
    await barrier.initialize(randomKey());
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renews at 80% of the lifetime by default, with a new key, once per version', async () => {
    const vault = await vaults.create('renew-default');
    await certificates.create(vault, 'web', {
      policy: { x509: { subject: 'CN=web.example', validityMonths: 10 }, issuer: { name: 'Self' } },
    });
    const first = await latest(vault, 'web');
    const lifetimeDays = (first.exp! - first.nbf!) / 86400;

    clock.advance(Math.floor(lifetimeDays * 0.79) * DAY_MS);
    assert.equal(await sweep(vault), 0, 'nothing is due at 79% of the lifetime');
    assert.equal(await versionCount(vault, 'web'), 1);

    clock.advance(Math.ceil(lifetimeDays * 0.02) * DAY_MS);
    assert.equal(await sweep(vault), 1, 'renewed past 80%');
    const renewed = await latest(vault, 'web');
    assert.notEqual(renewed.version, first.version);
    const [oldCert, newCert] = [x509Of(first.cer), x509Of(renewed.cer)];
    assert.equal(newCert.subject, 'CN=web.example');
    assert.ok(
      new Date(newCert.validFrom).getTime() > new Date(oldCert.validFrom).getTime(),
      'the new one starts now',
    );
    assert.ok(!newCert.publicKey.equals(oldCert.publicKey), 'reuse_key false: a new key');
    assert.ok(newCert.verify(newCert.publicKey), 'the renewed certificate is self-signed and verifies');

    assert.equal(await sweep(vault), 0, 'a second sweep at once does nothing');
    assert.equal(await versionCount(vault, 'web'), 2);
  });

  it('keeps the key when the policy says reuse_key', async () => {
    const vault = await vaults.create('renew-reuse');
    await certificates.create(vault, 'api', {
      policy: {
        key: { kty: 'EC', curve: 'P-384', reuseKey: true },
        x509: { subject: 'CN=api.example', validityMonths: 1 },
        lifetimeActions: [{ trigger: { daysBeforeExpiry: 10 }, action: 'AutoRenew' }],
      },
    });
    const first = await latest(vault, 'api');
    clock.advance(15 * DAY_MS);
    assert.equal(await sweep(vault), 0, 'not yet 10 days before expiry');
    clock.advance(10 * DAY_MS);
    assert.equal(await sweep(vault), 1);
    const renewed = await latest(vault, 'api');
    assert.notEqual(renewed.version, first.version);
    assert.ok(x509Of(renewed.cer).publicKey.equals(x509Of(first.cer).publicKey), 'same key');
  });

  it('hands EmailContacts notices with the contacts to the event mechanism once per version', async () => {
    const vault = await vaults.create('renew-notify');
    await certificates.contacts.setContacts(vault, [{ email: 'pki@example.com', name: 'PKI team' }]);
    await certificates.create(vault, 'legacy', {
      policy: {
        x509: { subject: 'CN=legacy.example', validityMonths: 2 },
        lifetimeActions: [{ trigger: { lifetimePercentage: 50 }, action: 'EmailContacts' }],
      },
    });
    const { version, exp, nbf } = await latest(vault, 'legacy');
    clock.advance(40 * DAY_MS);
    assert.equal(await sweep(vault), 1);
    assert.equal(await sweep(vault), 0, 'notified once');
    const mine = notices.filter((notice) => notice.vault === vault.name);
    assert.deepEqual(mine, [
      {
        vault: vault.name,
        certificate: 'legacy',
        version,
        notBefore: nbf,
        expiresOn: exp,
        contacts: [{ email: 'pki@example.com', name: 'PKI team' }],
      },
    ]);
    assert.equal(await versionCount(vault, 'legacy'), 1, 'EmailContacts does not renew');
  });

  it('renews a certificate of a Coffer CA through the CA, and reports one it cannot renew without stopping', async () => {
    const vault = await vaults.create('renew-ca');
    await certificates.create(vault, 'root', {
      policy: {
        key: { exportable: false },
        x509: { subject: 'CN=Renewal Root CA', keyUsage: ['keyCertSign', 'cRLSign'], validityMonths: 120 },
        lifetimeActions: [{ trigger: { lifetimePercentage: 90 }, action: 'EmailContacts' }],
      },
    });
    await certificates.issuers.set(vault, 'root-ca', { provider: 'Coffer', accountId: 'root' });
    await certificates.create(vault, 'leaf', {
      policy: { x509: { subject: 'CN=leaf.example', validityMonths: 3 }, issuer: { name: 'root-ca' } },
    });
    await certificates.create(vault, 'orphan', {
      policy: { x509: { subject: 'CN=orphan.example', validityMonths: 3 }, issuer: { name: 'root-ca' } },
    });
    // The orphan's issuer goes away: its renewal must fail on its own.
    await certificates.updatePolicy(vault, 'orphan', { issuer: { name: 'gone-ca' } });
    const rootCert = x509Of((await latest(vault, 'root')).cer);
    const firstLeaf = await latest(vault, 'leaf');

    clock.advance(80 * DAY_MS);
    failures.length = 0;
    assert.equal(await sweep(vault), 1, 'the leaf is renewed; the orphan is not');
    assert.deepEqual(failures, ['orphan']);
    const renewed = x509Of((await latest(vault, 'leaf')).cer);
    assert.notEqual((await latest(vault, 'leaf')).version, firstLeaf.version);
    assert.ok(renewed.checkIssued(rootCert), 'issued by the CA');
    assert.ok(renewed.verify(rootCert.publicKey), "signed with the CA's key");
    assert.equal(await versionCount(vault, 'orphan'), 1);
  });
});
