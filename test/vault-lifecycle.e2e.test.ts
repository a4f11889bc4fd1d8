import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { OBJECT_ID_CLAIM, serviceEventRecord } from './helpers/audit.js';
import { adminApi, vaultUrlOf } from './helpers/certificates.js';
import { cofferCli, cofferJson } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 14, soft-deleted vaults: deleting a vault keeps it whole (objects, role assignments,
// access policies) until it is recovered or purged; purge protection cannot be bypassed or
// turned off; a purged vault takes its role assignments with it.

const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';

interface Principal {
  objectId: string;
  clientId: string;
  clientSecret: string;
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

describe('soft-deleted vaults', () => {
  let server: DevServer;
  let admin: Awaited<ReturnType<typeof adminApi>>;
  let reader: Principal;
  let readerToken: string;
  const cli = (args: string[]) => cofferCli(server.dataDir, args);
  const json = <T>(args: string[]) => cofferJson<T>(server.dataDir, args);
  const clientsFor = (vault: string) => {
    const url = vaultUrlOf(server, vault);
    return {
      secrets: new SecretClient(url, server.credential),
      keys: new KeyClient(url, server.credential),
      certificates: new CertificateClient(url, server.credential),
    };
  };
  const readerSecret = (vault: string, name: string) =>
    rawRequest(`${vaultUrlOf(server, vault)}/secrets/${name}?api-version=7.6`, {
      headers: { authorization: `Bearer ${readerToken}` },
    });
  const assignReader = (vault: string) =>
    json<{ id: string }>([
      'role',
      'assignment',
      'create',
      '--role',
      SECRETS_USER,
      '--assignee',
      reader.objectId,
      '--scope',
      `/vaults/${vault}`,
    ]);

  before(async () => {
    server = await startDevServer();
    admin = await adminApi(server);
    reader = await admin<Principal>('POST', '/principals', { name: 'lifecycle-reader' });
    const { authorityHost, tenantId } = server.facts;
    readerToken = await fetchToken(authorityHost, tenantId, reader.clientId, reader.clientSecret);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('delete keeps everything; the vault answers 404 until recover brings it all back', async () => {
    await json(['vault', 'create', 'keeper', '--retention-days', '7']);
    const { secrets, keys, certificates } = clientsFor('keeper');
    await secrets.setSecret('db-password', 'correct horse battery staple');
    const key = await keys.createEcKey('signer', { curve: 'P-256' });
    await (
      await certificates.beginCreateCertificate(
        'web',
        { issuerName: 'Self', subject: 'CN=web.example', validityInMonths: 12 },
        { intervalInMs: 20 },
      )
    ).pollUntilDone();
    const assignment = await assignReader('keeper');
    await admin('PUT', '/vaults/keeper/accessPolicies/add', {
      properties: { accessPolicies: [{ objectId: reader.objectId, permissions: { secrets: ['get'] } }] },
    });
    assert.equal((await readerSecret('keeper', 'db-password')).status, 200);

    const deleted = await cli(['vault', 'delete', 'keeper']);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assert.rejects(secrets.getSecret('db-password'), (error) => statusOf(error) === 404);
    assert.equal((await readerSecret('keeper', 'db-password')).status, 404);

    const listed = await json<Array<{ name: string; scheduledPurgeDate: string; deletionDate: string }>>([
      'vault',
      'list-deleted',
    ]);
    const entry = listed.find((vault) => vault.name === 'keeper');
    assert.ok(entry, 'list-deleted shows the vault');
    const retention = Date.parse(entry.scheduledPurgeDate) - Date.parse(entry.deletionDate);
    assert.equal(retention, 7 * 24 * 3600 * 1000, 'purge is scheduled at the end of the retention');
    const shown = await json<{ name: string; purgeProtectionEnabled: boolean }>([
      'vault',
      'show-deleted',
      'keeper',
    ]);
    assert.equal(shown.purgeProtectionEnabled, false);
    assert.ok(!(await json<Array<{ name: string }>>(['vault', 'list'])).some((v) => v.name === 'keeper'));

    // The name stays reserved while the vault is deleted.
    const reuse = await cli(['vault', 'create', 'keeper']);
    assert.notEqual(reuse.code, 0);
    assert.match(reuse.stderr, /ConflictError:.*deleted state.*coffer vault recover keeper/);

    const recovered = await json<{ name: string; accessPolicies: Array<{ objectId: string }> }>([
      'vault',
      'recover',
      'keeper',
    ]);
    assert.equal(recovered.name, 'keeper');
    assert.deepEqual(
      recovered.accessPolicies.map((policy) => policy.objectId),
      [reader.objectId],
      'access policies come back',
    );
    assert.equal((await secrets.getSecret('db-password')).value, 'correct horse battery staple');
    const digest = createHash('sha256').update('after recovery').digest();
    const signed = await new CryptographyClient(key.id!, server.credential).sign('ES256', digest);
    const jwk = key.key!;
    const publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64url(jwk.x!), y: b64url(jwk.y!) },
      format: 'jwk',
    });
    assert.ok(
      verify(
        'sha256',
        Buffer.from('after recovery'),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        signed.result,
      ),
      'the recovered key still signs, checked by node:crypto',
    );
    const certificate = await certificates.getCertificate('web');
    assert.equal(certificate.policy?.subject, 'CN=web.example');
    const roles = await json<Array<{ id: string }>>([
      'role',
      'assignment',
      'list',
      '--scope',
      '/vaults/keeper',
    ]);
    assert.ok(
      roles.some((role) => role.id === assignment.id),
      'role assignments come back',
    );
    assert.equal((await readerSecret('keeper', 'db-password')).status, 200, 'and still grant access');
    assert.equal((await cli(['vault', 'show-deleted', 'keeper'])).code, 1, 'no longer deleted');
  });

  it('purge protection: nobody may purge, administrators included, and it cannot be turned off', async () => {
    await json(['vault', 'create', 'guarded', '--retention-days', '7', '--enable-purge-protection']);
    const off = await admin('PATCH', '/vaults/guarded', { enablePurgeProtection: false }).catch(
      (error: Error) => error.message,
    );
    assert.match(String(off), /400.*cannot be turned off/);
    const shorter = await cli(['vault', 'update', 'guarded', '--retention-days', '8']);
    assert.equal(shorter.code, 0, 'a longer retention is fine');
    const shortened = await cli(['vault', 'update', 'guarded', '--retention-days', '7']);
    assert.match(shortened.stderr, /cannot be shortened/);

    assert.equal((await cli(['vault', 'delete', 'guarded'])).code, 0);
    const purge = await cli(['vault', 'purge', 'guarded']);
    assert.equal(purge.code, 1);
    assert.match(purge.stderr, /MethodNotAllowed:.*DeletedVaultPurge.*purge protection/);
    const raw = await rawRequest(`${server.facts.url}/coffer/deletedvaults/guarded/purge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await adminToken(server)}` },
    });
    assert.equal(raw.status, 405);
    assert.equal((raw.json() as { error: { code: string } }).error.code, 'MethodNotAllowed');
    assert.ok(
      (await json<Array<{ name: string }>>(['vault', 'list-deleted'])).some((v) => v.name === 'guarded'),
    );
  });

  it('a purged vault takes its role assignments along: a new vault of the same name grants nothing', async () => {
    // Regression: deletion used to leave the assignments, and a re-created name inherited them.
    await json(['vault', 'create', 'reborn', '--retention-days', '7']);
    await clientsFor('reborn').secrets.setSecret('old', 'from the first vault');
    await assignReader('reborn');
    assert.equal((await readerSecret('reborn', 'old')).status, 200);

    assert.equal((await cli(['vault', 'delete', 'reborn'])).code, 0);
    const purged = await cli(['vault', 'purge', 'reborn', '--output', 'json']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal((await cli(['vault', 'show-deleted', 'reborn'])).code, 1);
    assert.deepEqual(await json(['role', 'assignment', 'list', '--scope', '/vaults/reborn']), []);

    await json(['vault', 'create', 'reborn']);
    await clientsFor('reborn').secrets.setSecret('old', 'from the second vault');
    const refused = await readerSecret('reborn', 'old');
    assert.equal(refused.status, 403, "the first vault's reader has no access to the second");
    await assert.rejects(
      new SecretClient(
        vaultUrlOf(server, 'reborn'),
        credentialFor(server.facts, reader.clientId, reader.clientSecret),
      ).getSecret('old'),
      (error) => statusOf(error) === 403,
    );
  });

  it('the sweep purges a deleted vault when its retention ends, protected or not, and audits it', async () => {
    // Every vault's clock moves 10 days ahead: 'guarded' (7 days, then 8) reaches its purge date.
    const shifted = await json<{ offsetDays: number; acted: number }>(['dev', 'time-shift', '--days', '10']);
    assert.equal(shifted.offsetDays, 10);
    assert.ok(shifted.acted >= 1);
    assert.ok(
      !(await json<Array<{ name: string }>>(['vault', 'list-deleted'])).some((v) => v.name === 'guarded'),
    );
    await json(['vault', 'create', 'guarded']);
    const purged = await serviceEventRecord(server.dataDir, 'VaultPurged', 'guarded');
    assert.equal(purged.identity?.claim[OBJECT_ID_CLAIM], 'system');
  });
});

async function adminToken(server: DevServer): Promise<string> {
  const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
  return fetchToken(authorityHost, tenantId, clientId, clientSecret);
}
