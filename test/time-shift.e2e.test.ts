import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { collect, vaultUrlOf } from './helpers/certificates.js';
import { cofferCli, cofferJson } from './helpers/coffer-cli.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 14, time control for tests: `coffer dev time-shift` moves one vault's clock forward and
// runs what falls due, so rotation, near-expiry, expiry, auto-renewal and purge take seconds.

const DAY_MS = 24 * 3600 * 1000;
const poll = { intervalInMs: 20 };
const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

describe('dev-mode time shift', () => {
  let server: DevServer;
  let keys: KeyClient;
  let secrets: SecretClient;
  let certificates: CertificateClient;
  let bystander: SecretClient;
  const shift = (days: number, vault?: string) =>
    cofferJson<{ vault: string | null; offsetDays: number; now: string; acted: number }>(server.dataDir, [
      'dev',
      'time-shift',
      '--days',
      String(days),
      ...(vault ? ['--vault', vault] : []),
    ]);
  const sign = (keyId: string) =>
    new CryptographyClient(keyId, server.credential).sign('ES256', createHash('sha256').update('x').digest());

  before(async () => {
    server = await startDevServer();
    for (const vault of ['clockwork', 'bystander']) {
      await cofferJson(server.dataDir, ['vault', 'create', vault, '--retention-days', '7']);
    }
    const url = vaultUrlOf(server, 'clockwork');
    keys = new KeyClient(url, server.credential);
    secrets = new SecretClient(url, server.credential);
    certificates = new CertificateClient(url, server.credential);
    bystander = new SecretClient(vaultUrlOf(server, 'bystander'), server.credential);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('drives a rotation policy, key expiry and the purge of deleted secrets in one vault only', async () => {
    await keys.createEcKey('rotating', { curve: 'P-256' });
    await keys.updateKeyRotationPolicy('rotating', {
      lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }],
      expiresIn: 'P90D',
    });
    const expiring = await keys.createEcKey('expiring', {
      curve: 'P-256',
      expiresOn: new Date(Date.now() + 2 * DAY_MS),
    });
    await sign(expiring.id!);
    for (const client of [secrets, bystander]) {
      await client.setSecret('old', 'to be purged');
      await (await client.beginDeleteSecret('old', poll)).pollUntilDone();
    }

    const shifted = await shift(31, 'clockwork');
    assert.equal(shifted.vault, 'clockwork');
    assert.equal(shifted.offsetDays, 31);
    assert.ok(Math.abs(Date.parse(shifted.now) - (Date.now() + 31 * DAY_MS)) < 60_000);

    const versions = await collect(keys.listPropertiesOfKeyVersions('rotating'));
    assert.equal(versions.length, 2, 'the rotation policy made a new version');
    await assert.rejects(
      sign(expiring.id!),
      (error) => statusOf(error) === 403,
      'an expired key no longer signs',
    );
    await assert.rejects(secrets.getDeletedSecret('old'), (error) => statusOf(error) === 404, 'purged');
    assert.equal((await bystander.getDeletedSecret('old')).name, 'old', 'the other vault kept real time');
    // New writes in the shifted vault carry the vault's time.
    const written = await secrets.setSecret('fresh', 'v');
    assert.ok(written.properties.createdOn!.getTime() > Date.now() + 30 * DAY_MS);
  });

  it('drives a certificate near-expiry notice, then its auto-renewal', async () => {
    await (
      await certificates.beginCreateCertificate(
        'renewing',
        {
          issuerName: 'Self',
          subject: 'CN=renewing.example',
          validityInMonths: 12,
          lifetimeActions: [
            { action: 'EmailContacts', lifetimePercentage: 50 },
            { action: 'AutoRenew', daysBeforeExpiry: 30 },
          ],
        },
        poll,
      )
    ).pollUntilDone();
    await shift(200, 'clockwork');
    // EmailContacts raises CertificateNearExpiry (test/events.e2e.test.ts receives it); the server logs it too.
    await server.process.waitForOutput(
      /"eventType":"Microsoft.KeyVault.CertificateNearExpiry"[^\n]*"subject":"renewing"/,
    );
    assert.equal((await collect(certificates.listPropertiesOfCertificateVersions('renewing'))).length, 1);
    await shift(140, 'clockwork');
    const versions = await collect(certificates.listPropertiesOfCertificateVersions('renewing'));
    assert.equal(versions.length, 2, 'AutoRenew issued a new version');
    const latest = await certificates.getCertificate('renewing');
    assert.ok(
      latest.properties.expiresOn!.getTime() > Date.now() + 360 * DAY_MS,
      'valid a year from vault time',
    );
  });

  it('refuses what is not a forward move, and names a vault that does not exist', async () => {
    const backwards = await cofferCli(server.dataDir, ['dev', 'time-shift', '--days', '0']);
    assert.equal(backwards.code, 1);
    assert.match(backwards.stderr, /1 to 3650/);
    const unknown = await cofferCli(server.dataDir, [
      'dev',
      'time-shift',
      '--days',
      '1',
      '--vault',
      'nowhere',
    ]);
    assert.match(unknown.stderr, /VaultNotFound/);
  });
});
