import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { vaultUrlOf } from './helpers/certificates.js';
import { cofferJson } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { pythonScenario } from './helpers/python.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 14: Azure Managed HSM's full backup, full restore and selective key restore, and the
// Settings API, at a vault's URL, through Debian's Azure SDK for Python (KeyVaultBackupClient and
// KeyVaultSettingsClient of azure-keyvault-administration 4.3.0b2). The npm registry this project
// installs from has no @azure/keyvault-admin, so the JavaScript client could not be used.

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

describe('vault backup and settings in Managed HSM shape', () => {
  let server: DevServer;
  let token: string;
  let folderUrl: string;
  const backupDir = () => path.join(server.dataDir, 'backups');

  const python = <T>(scenario: string, ...args: string[]) => pythonScenario<T>(server, scenario, ...args);
  const call = (vault: string, method: string, apiPath: string, body?: unknown) =>
    rawRequest(`${vaultUrlOf(server, vault)}${apiPath}?api-version=7.6`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    server = await startDevServer();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    for (const vault of ['hsm', 'copy', 'keyonly'])
      await cofferJson(server.dataDir, ['vault', 'create', vault]);
    const url = vaultUrlOf(server, 'hsm');
    await new SecretClient(url, server.credential).setSecret('hsm-secret', 'kept in the vault backup');
    await new KeyClient(url, server.credential).createEcKey('hsm-key', { curve: 'P-256' });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('KeyVaultSettingsClient lists and reads the settings; a read-only one refuses a change', async () => {
    const result = await python<{
      listed: Array<{ name: string; value: string; type: string }>;
      one: { name: string; value: string };
      refused: { status: number; message: string } | null;
    }>('settings', vaultUrlOf(server, 'hsm'));
    assert.deepEqual(result.listed, [
      { name: 'AllowKeyManagementOperationsThroughARM', value: 'false', type: 'boolean' },
    ]);
    assert.deepEqual(result.one, { name: 'AllowKeyManagementOperationsThroughARM', value: 'false' });
    assert.equal(result.refused?.status, 400);
    assert.match(result.refused!.message, /read-only/);
    assert.equal((await call('hsm', 'GET', '/settings/NoSuchSetting')).status, 404);
  });

  it('KeyVaultBackupClient backs a vault up into the backup directory; the file holds no plaintext', async () => {
    const result = await python<{ folderUrl: string }>(
      'full-backup',
      vaultUrlOf(server, 'hsm'),
      pathToFileURL(backupDir()).href,
    );
    folderUrl = result.folderUrl;
    assert.match(folderUrl, /^file:\/\/\/.*\/backups\/hsm-\d{12,}$/);
    const [file] = readdirSync(backupDir());
    const bytes = readFileSync(path.join(backupDir(), file!));
    assert.equal(bytes.indexOf('kept in the vault backup'), -1);
    assert.equal(bytes.indexOf('hsm-secret'), -1);
  });

  it('restores the whole backup into an empty vault: the secret reads back and the key signs', async () => {
    const restored = await python<{ restored: boolean }>(
      'full-restore',
      vaultUrlOf(server, 'copy'),
      folderUrl,
    );
    assert.deepEqual(restored, { restored: true });
    const url = vaultUrlOf(server, 'copy');
    assert.equal(
      (await new SecretClient(url, server.credential).getSecret('hsm-secret')).value,
      'kept in the vault backup',
    );
    const key = await new KeyClient(url, server.credential).getKey('hsm-key');
    const digest = createHash('sha256').update('restored').digest();
    const { result } = await new CryptographyClient(key.id!, server.credential).sign('ES256', digest);
    const publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64url(key.key!.x!), y: b64url(key.key!.y!) },
      format: 'jwk',
    });
    assert.ok(
      verify('sha256', Buffer.from('restored'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, result),
    );

    const again = await python<{ restored: boolean; message: string }>('full-restore', url, folderUrl);
    assert.equal(again.restored, false, 'a vault that is not empty is never overwritten');
    assert.match(again.message, /not empty/);
  });

  it('selective key restore brings back one key, and only it', async () => {
    const url = vaultUrlOf(server, 'keyonly');
    const result = await python<{ restored: boolean }>('full-restore', url, folderUrl, 'hsm-key');
    assert.deepEqual(result, { restored: true });
    assert.equal((await new KeyClient(url, server.credential).getKey('hsm-key')).name, 'hsm-key');
    await assert.rejects(new SecretClient(url, server.credential).getSecret('hsm-secret'), {
      statusCode: 404,
    });
  });

  it('refuses a location outside the backup directory, another scheme, and a tampered file', async () => {
    const outside = await call('hsm', 'POST', '/backup', { storageResourceUri: 'file:///tmp' });
    assert.equal(outside.status, 400);
    assert.match(outside.text, /inside the server's backup directory/);
    const blob = await call('hsm', 'POST', '/backup', {
      storageResourceUri: 'https://account.blob.core.windows.net/c',
    });
    assert.match(blob.text, /must be a file: URL/);
    const escape = await call('copy', 'PUT', '/restore', {
      sasTokenParameters: { storageResourceUri: pathToFileURL(backupDir()).href },
      folderToRestore: '../coffer.db',
    });
    assert.equal(escape.status, 400);

    const folder = folderUrl.split('/').pop()!;
    const file = path.join(backupDir(), folder);
    const original = readFileSync(file);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 40] = tampered[tampered.length - 40]! ^ 1;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${file}-tampered`, tampered);
    await cofferJson(server.dataDir, ['vault', 'create', 'spare']);
    const started = await call('spare', 'PUT', '/restore', {
      sasTokenParameters: { storageResourceUri: pathToFileURL(backupDir()).href },
      folderToRestore: `${folder}-tampered`,
    });
    assert.equal(started.status, 202);
    assert.equal((started.json() as { status: string }).status, 'InProgress', 'as Azure answers a start');
    let job: { status: string; error: { message: string } };
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const polled = await rawRequest(String(started.headers['azure-asyncoperation']), {
        headers: { authorization: `Bearer ${token}` },
      });
      job = polled.json() as typeof job;
    } while (job.status === 'InProgress');
    assert.equal(job.status, 'Failed');
    assert.match(job.error.message, /fails authentication|another Coffer installation/);
    await assert.rejects(new KeyClient(vaultUrlOf(server, 'spare'), server.credential).getKey('hsm-key'), {
      statusCode: 404,
    });
  });
});
