import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// The Secrets API through the official @azure/keyvault-secrets client, operation by operation:
// versions, get, update, soft delete, recover, purge, backup and restore.

const DAY_MS = 24 * 60 * 60 * 1000;
// Dates stay before 2038: @azure/keyvault-secrets 4.11.2 writes nbf/exp as `(ms / 1000) | 0`, a 32-bit
// integer, so a later date reaches the server as a negative time.

interface SdkError {
  statusCode?: number;
  code?: string;
  message: string;
}

interface WireSecret {
  value?: string;
  id: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: { enabled: boolean; nbf?: number; exp?: number; created: number; updated: number };
}

interface AdminVault {
  name: string;
  vaultUrl: string;
  softDeleteRetentionInDays: number;
}

/** Asserts that an SDK call fails with the given HTTP status and Azure error code. */
async function rejectsWith(promise: Promise<unknown>, statusCode: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const { statusCode: actualStatus, code: actualCode } = error as SdkError;
    assert.equal(actualStatus, statusCode, `status of ${String(error)}`);
    assert.equal(actualCode, code, `code of ${String(error)}`);
    return true;
  });
}

describe('secrets through @azure/keyvault-secrets', () => {
  let server: DevServer;
  let client: SecretClient;
  let token: string;
  const poll = { intervalInMs: 20 };

  const raw = (method: string, path: string, body?: unknown, vaultUrl = server.facts.vaultUrl) =>
    rawRequest(`${vaultUrl}${path}${path.includes('?') ? '&' : '?'}api-version=7.6`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const wire = (response: RawResponse) => {
    assert.equal(response.status, 200, response.text);
    return response.json() as WireSecret;
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await rawRequest(`${server.facts.url}/coffer${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(response.status < 300, `${method} /coffer${path}: ${response.status} ${response.text}`);
    return response.json() as AdminVault;
  };
  const createVault = (name: string, softDeleteRetentionInDays?: number) =>
    admin('POST', '/vaults', { name, softDeleteRetentionInDays });
  const otherVaultUrl = (name: string) => `https://${name}.vault.localhost:${new URL(server.facts.url).port}`;
  const deleteSecret = async (target: SecretClient, name: string) =>
    (await target.beginDeleteSecret(name, poll)).pollUntilDone();

  before(async () => {
    server = await startDevServer();
    client = server.secrets();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(
      authorityHost,
      tenantId,
      clientId,
      clientSecret,
      'https://vault.localhost/.default',
    );
  });
  after(async () => {
    await server.stop();
  });

  it('makes a new version on every set; the latest wins and older versions stay readable', async () => {
    const first = await client.setSecret('versioned', 'one');
    const second = await client.setSecret('versioned', 'two');
    assert.notEqual(first.properties.version, second.properties.version);
    assert.match(second.properties.version ?? '', /^[0-9a-f]{32}$/);

    const latest = await client.getSecret('versioned');
    assert.equal(latest.value, 'two');
    assert.equal(latest.properties.version, second.properties.version);
    const older = await client.getSecret('versioned', { version: first.properties.version! });
    assert.equal(older.value, 'one');
    assert.equal(older.properties.id, first.properties.id);

    const versions: string[] = [];
    for await (const properties of client.listPropertiesOfSecretVersions('versioned')) {
      versions.push(properties.version ?? '');
    }
    assert.deepEqual(versions.sort(), [first.properties.version, second.properties.version].sort());
  });

  it('answers GET /secrets/{name}/ (trailing slash, empty version) with the latest version', async () => {
    await client.setSecret('slash', 'old');
    const stored = await client.setSecret('slash', 'new');
    const body = wire(await raw('GET', '/secrets/slash/'));
    assert.equal(body.value, 'new');
    assert.equal(body.id, stored.properties.id);
    assert.equal(body.id, `${server.facts.vaultUrl}/secrets/slash/${stored.properties.version}`);
  });

  it('sets contentType, tags, enabled and dates with the value', async () => {
    const notBefore = new Date(Date.UTC(2024, 0, 1));
    const expiresOn = new Date(Date.UTC(2030, 0, 1));
    const stored = await client.setSecret('with-properties', 'v', {
      contentType: 'text/plain',
      tags: { env: 'test', team: 'vault' },
      notBefore,
      expiresOn,
    });
    const read = await client.getSecret('with-properties');
    assert.equal(read.properties.contentType, 'text/plain');
    assert.deepEqual(read.properties.tags, { env: 'test', team: 'vault' });
    assert.equal(read.properties.enabled, true);
    assert.equal(read.properties.notBefore?.getTime(), notBefore.getTime());
    assert.equal(read.properties.expiresOn?.getTime(), expiresOn.getTime());
    const body = wire(await raw('GET', `/secrets/with-properties/${stored.properties.version}`));
    assert.equal(body.attributes.nbf, notBefore.getTime() / 1000);
    assert.equal(body.attributes.exp, expiresOn.getTime() / 1000);
  });

  it('treats names case-insensitively', async () => {
    const stored = await client.setSecret('MySecret', 'case');
    const read = await client.getSecret('mysecret');
    assert.equal(read.value, 'case');
    assert.equal(read.properties.version, stored.properties.version);
    const second = await client.setSecret('MYSECRET', 'case 2');
    assert.equal((await client.getSecret('mySecret')).value, 'case 2');
    const versions: string[] = [];
    for await (const properties of client.listPropertiesOfSecretVersions('mysecret')) {
      versions.push(properties.version ?? '');
    }
    assert.deepEqual(versions.sort(), [stored.properties.version, second.properties.version].sort());
  });

  it('updates the properties of the latest version (empty version) without touching the value', async () => {
    await client.setSecret('update-latest', 'keep me', { contentType: 'before', tags: { a: '1' } });
    const notBefore = new Date(Date.UTC(2025, 5, 1, 12, 0, 0));
    const expiresOn = new Date(Date.UTC(2031, 11, 31));
    const updated = await client.updateSecretProperties('update-latest', '', {
      contentType: 'application/json',
      tags: { b: '2' },
      notBefore,
      expiresOn,
    });
    assert.equal(updated.contentType, 'application/json');
    assert.deepEqual(updated.tags, { b: '2' });

    const read = await client.getSecret('update-latest');
    assert.equal(read.value, 'keep me');
    assert.equal(read.properties.contentType, 'application/json');
    assert.deepEqual(read.properties.tags, { b: '2' });
    assert.equal(read.properties.notBefore?.getTime(), notBefore.getTime());
    assert.equal(read.properties.expiresOn?.getTime(), expiresOn.getTime());
    const body = wire(await raw('GET', '/secrets/update-latest/'));
    assert.equal(body.attributes.nbf, Math.floor(notBefore.getTime() / 1000));
    assert.equal(body.attributes.exp, Math.floor(expiresOn.getTime() / 1000));
  });

  it('updates an older version only, and disabling a version makes only that version unreadable', async () => {
    const older = await client.setSecret('update-older', 'first', { contentType: 'one' });
    const newer = await client.setSecret('update-older', 'second', { contentType: 'two' });
    const olderVersion = older.properties.version!;

    const updated = await client.updateSecretProperties('update-older', olderVersion, {
      enabled: false,
      contentType: 'old one',
      tags: { retired: 'yes' },
    });
    assert.equal(updated.version, olderVersion);
    assert.equal(updated.enabled, false);

    const latest = await client.getSecret('update-older');
    assert.equal(latest.value, 'second');
    assert.equal(latest.properties.version, newer.properties.version);
    assert.equal(latest.properties.contentType, 'two');
    assert.equal(latest.properties.tags, undefined);
    assert.equal(latest.properties.enabled, true);

    await rejectsWith(client.getSecret('update-older', { version: olderVersion }), 403, 'Forbidden');
    const wired = wire(await raw('PATCH', `/secrets/update-older/${olderVersion}`, {}));
    assert.equal(wired.attributes.enabled, false);
    assert.equal(wired.contentType, 'old one');
    assert.deepEqual(wired.tags, { retired: 'yes' });
    assert.equal(wired.value, undefined, 'an update answers without the value');

    await client.updateSecretProperties('update-older', olderVersion, { enabled: true });
    const again = await client.getSecret('update-older', { version: olderVersion });
    assert.equal(again.value, 'first');
    assert.equal(again.properties.contentType, 'old one');
  });

  it('soft-deletes with recoveryId, deletedDate and scheduledPurgeDate = deletedDate + the vault retention', async () => {
    const { softDeleteRetentionInDays } = await admin('GET', `/vaults/${server.facts.vaultName}`);
    await client.setSecret('to-delete', 'gone soon');
    const started = Date.now();
    const deleted = await deleteSecret(client, 'to-delete');
    assert.equal(deleted.name, 'to-delete');
    assert.equal(deleted.properties.recoveryId, `${server.facts.vaultUrl}/deletedsecrets/to-delete`);
    const deletedOn = deleted.properties.deletedOn?.getTime() ?? Number.NaN;
    assert.ok(Math.abs(deletedOn - started) < 5_000, `deletedDate ${deleted.properties.deletedOn} is now`);
    assert.equal(
      (deleted.properties.scheduledPurgeDate?.getTime() ?? 0) - deletedOn,
      softDeleteRetentionInDays * DAY_MS,
    );
    assert.equal(deleted.value, undefined, 'a deleted secret does not show its value');

    await rejectsWith(client.getSecret('to-delete'), 404, 'SecretNotFound');
    const fetched = await client.getDeletedSecret('to-delete');
    assert.equal(fetched.properties.recoveryId, deleted.properties.recoveryId);
    assert.equal(fetched.properties.deletedOn?.getTime(), deletedOn);
    assert.equal(fetched.value, undefined);

    const listed: string[] = [];
    for await (const item of client.listDeletedSecrets()) listed.push(item.name);
    assert.ok(listed.includes('to-delete'), `listDeletedSecrets gave ${listed.join(', ')}`);
    const live: string[] = [];
    for await (const item of client.listPropertiesOfSecrets()) live.push(item.name);
    assert.ok(!live.includes('to-delete'), 'a deleted secret is not listed as live');
  });

  it('schedules the purge from the retention of the vault the secret is in', async () => {
    const vault = await createVault('shortretention', 7);
    assert.equal(vault.softDeleteRetentionInDays, 7);
    const short = new SecretClient(otherVaultUrl('shortretention'), server.credential);
    await short.setSecret('brief', 'x');
    const deleted = await deleteSecret(short, 'brief');
    assert.equal(
      (deleted.properties.scheduledPurgeDate?.getTime() ?? 0) -
        (deleted.properties.deletedOn?.getTime() ?? 0),
      7 * DAY_MS,
    );
    assert.equal(deleted.properties.recoverableDays, 7);
  });

  it('recovers a deleted secret with its value and every version', async () => {
    const first = await client.setSecret('recover-me', 'v1');
    const second = await client.setSecret('recover-me', 'v2');
    await deleteSecret(client, 'recover-me');
    const recovered = await (await client.beginRecoverDeletedSecret('recover-me', poll)).pollUntilDone();
    assert.equal(recovered.name, 'recover-me');

    const read = await client.getSecret('recover-me');
    assert.equal(read.value, 'v2');
    assert.equal(read.properties.version, second.properties.version);
    assert.equal((await client.getSecret('recover-me', { version: first.properties.version! })).value, 'v1');
    await rejectsWith(client.getDeletedSecret('recover-me'), 404, 'SecretNotFound');
  });

  it('purges a deleted secret for good: get deleted is 404 and the name can be set again', async () => {
    await client.setSecret('purge-me', 'old value 1');
    const oldVersion = (await client.setSecret('purge-me', 'old value 2')).properties.version!;
    await deleteSecret(client, 'purge-me');
    await client.purgeDeletedSecret('purge-me');

    await rejectsWith(client.getDeletedSecret('purge-me'), 404, 'SecretNotFound');
    await rejectsWith(client.getSecret('purge-me'), 404, 'SecretNotFound');
    const listed: string[] = [];
    for await (const item of client.listDeletedSecrets()) listed.push(item.name);
    assert.ok(!listed.includes('purge-me'));

    const fresh = await client.setSecret('purge-me', 'new value');
    assert.equal((await client.getSecret('purge-me')).value, 'new value');
    const versions: string[] = [];
    for await (const properties of client.listPropertiesOfSecretVersions('purge-me')) {
      versions.push(properties.version ?? '');
    }
    assert.deepEqual(versions, [fresh.properties.version], 'the purged versions are gone');
    await rejectsWith(client.getSecret('purge-me', { version: oldVersion }), 404, 'SecretNotFound');
  });

  it('backs up into an opaque blob that does not show the value, raw or in base64', async () => {
    const value = 'backup-plaintext-marker-0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    await client.setSecret('opaque', value, { contentType: 'text/marker' });
    const blob = await client.backupSecret('opaque');
    assert.ok(blob instanceof Uint8Array && blob.length > 0);
    const bytes = Buffer.from(blob);
    const encodings = [
      value,
      Buffer.from(value).toString('base64'),
      Buffer.from(value).toString('base64url'),
      Buffer.from(value).toString('hex'),
    ];
    for (const encoded of encodings) {
      assert.ok(!bytes.includes(encoded), `the blob contains ${encoded}`);
    }

    const response = await raw('POST', '/secrets/opaque/backup');
    assert.equal(response.status, 200, response.text);
    const text = (response.json() as { value: string }).value;
    assert.match(text, /^[A-Za-z0-9_-]+$/, 'the blob is base64url without padding');
    for (const encoded of encodings) assert.ok(!text.includes(encoded), `the wire blob contains ${encoded}`);
    assert.ok(
      !Buffer.from(text, 'base64url').includes(value),
      'the decoded wire blob does not contain the value',
    );
    assert.ok(!bytes.includes('text/marker'), 'the blob does not show the properties either');
  });

  it('restores a backup into the same vault after purge, with every version and property', async () => {
    const first = await client.setSecret('round-trip', 'first value', { tags: { kept: 'yes' } });
    const second = await client.setSecret('round-trip', 'second value', { contentType: 'text/plain' });
    const blob = await client.backupSecret('round-trip');
    assert.ok(blob);
    await deleteSecret(client, 'round-trip');
    await client.purgeDeletedSecret('round-trip');
    await rejectsWith(client.getSecret('round-trip'), 404, 'SecretNotFound');

    const restored = await client.restoreSecretBackup(blob);
    assert.equal(restored.name, 'round-trip');
    assert.equal(restored.version, second.properties.version);
    const latest = await client.getSecret('round-trip');
    assert.equal(latest.value, 'second value');
    assert.equal(latest.properties.contentType, 'text/plain');
    const older = await client.getSecret('round-trip', { version: first.properties.version! });
    assert.equal(older.value, 'first value');
    assert.deepEqual(older.properties.tags, { kept: 'yes' });
  });

  it('restores a backup into another vault of the same installation', async () => {
    const vault = await createVault('restoretarget');
    const url = otherVaultUrl('restoretarget');
    assert.equal(vault.vaultUrl, url);
    const target = new SecretClient(url, server.credential);

    const stored = await client.setSecret('moving', 'travels between vaults');
    const blob = await client.backupSecret('moving');
    assert.ok(blob);
    await rejectsWith(target.getSecret('moving'), 404, 'SecretNotFound');

    const restored = await target.restoreSecretBackup(blob);
    assert.equal(restored.id, `${url}/secrets/moving/${stored.properties.version}`);
    const read = await target.getSecret('moving');
    assert.equal(read.value, 'travels between vaults');
    assert.equal(read.properties.vaultUrl, url);
    assert.equal((await client.getSecret('moving')).value, 'travels between vaults', 'the source keeps it');
  });
});
