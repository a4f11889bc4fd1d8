import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretClient } from '@azure/keyvault-secrets';
import { combine } from 'shamir-secret-sharing';
import { consoleRequest, consoleSignIn } from './helpers/console-http.js';
import { bearerRequest, fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { freePort, type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { filesUnder, leaksInFiles } from './helpers/scan.js';
import { credentialFor } from './helpers/server-process.js';

interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  sealType: string | null;
  shares: number;
  threshold: number;
  progress: number;
}

interface InitResult {
  shares: string[];
  tenantId: string;
  objectId: string;
  clientId: string;
  clientSecret: string;
}

interface AzureError {
  error: { code: string; message: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertAzureError(response: RawResponse, status: number, code?: string): AzureError {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
  const body = response.json() as AzureError;
  assert.equal(typeof body.error?.code, 'string', `Azure error JSON expected: ${response.text}`);
  assert.ok(body.error.message.length > 0, 'the error has a message');
  if (code) assert.equal(body.error.code, code);
  return body;
}

function assertUnavailable(response: RawResponse, what: string): void {
  assert.equal(response.status, 503, `${what}: expected 503, got ${response.status}: ${response.text}`);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter > 0, `${what}: Retry-After is a number of seconds`);
  assertAzureError(response, 503);
}

/** Decoded share bytes; the last byte is the share's x coordinate. */
const shareBytes = (share: string) => Buffer.from(share, 'base64');
const xOf = (share: string) => shareBytes(share).at(-1);

describe('production server: init, unseal, seal, restart and key rotation', () => {
  let server: ProductionServer;
  let other: ProductionServer | undefined;
  let port: number;
  let init: InitResult;
  let adminToken: string;
  let secrets: SecretClient;
  /** Same vault, but a 503 is reported at once instead of retried. */
  let secretsNoRetry: SecretClient;
  const vault = 'sealtest';
  const CONSOLE_PASSWORD = 'correct horse battery staple';
  let consoleSession: string;
  const firstValue = `first-${randomBytes(12).toString('base64url')}`;

  before(async () => {
    port = await freePort();
    server = await startProductionServer({ port });
  });

  after(async () => {
    await other?.stop();
    assert.equal(await server?.stop('SIGTERM'), 0, 'SIGTERM stops the production server with exit code 0');
  });

  const status = async (): Promise<SealStatus> => {
    const response = await server.api('GET', '/coffer/operator/status');
    assert.equal(response.status, 200, response.text);
    return response.json() as SealStatus;
  };
  const unseal = (share: string) => server.api('POST', '/coffer/operator/unseal', { body: { share } });
  const unsealWith = async (shares: string[]) => {
    let last: SealStatus | undefined;
    for (const share of shares) {
      const response = await unseal(share);
      assert.equal(response.status, 200, response.text);
      last = response.json() as SealStatus;
    }
    assert.equal(last?.sealed, false, 'threshold shares unseal');
  };
  const readyStatus = async () => (await rawRequest(`${server.url}/readyz`)).status;

  /** Data-plane (named vault and bare host), token and admin requests, all of which a sealed server refuses. */
  const assertEverythingUnavailable = async (tenantId: string) => {
    const bearer = { authorization: `Bearer ${adminToken ?? 'not-a-token'}` };
    const probes: [string, Promise<RawResponse>][] = [
      ['GET named vault', rawRequest(`https://dev.vault.localhost:${server.port}/secrets?api-version=7.6`)],
      ['GET bare host', rawRequest(`https://127.0.0.1:${server.port}/secrets?api-version=7.6`)],
      [
        'GET with a bearer token',
        rawRequest(`${server.vaultUrl(vault)}/secrets/a?api-version=7.6`, { headers: bearer }),
      ],
      [
        'PUT a secret',
        rawRequest(`${server.vaultUrl(vault)}/secrets/a?api-version=7.6`, {
          method: 'PUT',
          headers: { ...bearer, 'content-type': 'application/json' },
          body: JSON.stringify({ value: 'v' }),
        }),
      ],
      [
        'token endpoint',
        rawRequest(`${server.url}/${tenantId}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: init?.clientId ?? randomUUID(),
            client_secret: init?.clientSecret ?? 'x',
            scope: 'https://vault.localhost/.default',
          }).toString(),
        }),
      ],
      ['admin API', server.api('GET', '/coffer/vaults', { token: adminToken ?? 'not-a-token' })],
    ];
    for (const [what, probe] of probes) assertUnavailable(await probe, what);
    assert.equal(await readyStatus(), 503, '/readyz is 503 while sealed');
  };

  it('starts uninitialised and sealed: /healthz 200, /readyz 503', async () => {
    assert.match(server.process.output, /not initialised/);
    const health = await rawRequest(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(Object.keys(health.json() as object), ['status']);
    const ready = await rawRequest(`${server.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(Object.keys(ready.json() as object), ['status']);
    assert.deepEqual(await status(), {
      initialized: false,
      sealed: true,
      sealType: null,
      shares: 0,
      threshold: 0,
      progress: 0,
    });
  });

  it('answers data-plane, token and admin requests with 503, Retry-After and the Azure error JSON', async () => {
    await assertEverythingUnavailable(randomUUID());
    const client = new SecretClient(
      server.vaultUrl('dev'),
      credentialFor({ tenantId: randomUUID(), authorityHost: server.url }, randomUUID(), 'x'),
      { retryOptions: { maxRetries: 0 } },
    );
    await assert.rejects(client.getSecret('a'), { statusCode: 503 });
  });

  it('init returns five shares and the first administrator, once; the store stays sealed', async () => {
    const response = await server.api('POST', '/coffer/operator/init', { body: { shares: 5, threshold: 3 } });
    assert.equal(response.status, 200, response.text);
    init = response.json() as InitResult;
    assert.equal(init.shares.length, 5);
    assert.equal(new Set(init.shares).size, 5, 'the shares are distinct');
    for (const share of init.shares) assert.match(share, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(new Set(init.shares.map(xOf)).size, 5, 'every share has its own x coordinate');
    assert.match(init.tenantId, UUID);
    assert.match(init.objectId, UUID);
    assert.match(init.clientId, UUID);
    assert.ok(init.clientSecret.length >= 20, 'a client secret is returned');

    const again = await server.api('POST', '/coffer/operator/init', { body: { shares: 3, threshold: 2 } });
    assertAzureError(again, 409);

    assert.deepEqual(await status(), {
      initialized: true,
      sealed: true,
      sealType: 'shamir',
      shares: 5,
      threshold: 3,
      progress: 0,
    });
    await assertEverythingUnavailable(init.tenantId);
  });

  it('two of five shares (threshold - 1) do not unseal: progress 2, still 503', async () => {
    const first = await unseal(init.shares[0]!);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(
      { sealed: (first.json() as SealStatus).sealed, progress: (first.json() as SealStatus).progress },
      { sealed: true, progress: 1 },
    );
    const second = await unseal(init.shares[1]!);
    assert.equal(second.status, 200, second.text);
    const afterTwo = second.json() as SealStatus;
    assert.equal(afterTwo.sealed, true);
    assert.equal(afterTwo.progress, 2);
    assert.equal(afterTwo.threshold, 3);
    await assertEverythingUnavailable(init.tenantId);
  });

  it('a share given twice is 400, a garbage share is 400, and neither costs the progress made', async () => {
    assertAzureError(await unseal(init.shares[1]!), 400);
    assertAzureError(await unseal('this is not a share'), 400);
    assertAzureError(await unseal(randomBytes(16).toString('base64')), 400, 'BadParameter');
    assertAzureError(await server.api('POST', '/coffer/operator/unseal', { body: {} }), 400);
    const now = await status();
    assert.equal(now.sealed, true);
    assert.equal(now.progress, 2);
  });

  it('a third distinct share unseals: sealed false, /readyz 200', async () => {
    const response = await unseal(init.shares[2]!);
    assert.equal(response.status, 200, response.text);
    const opened = response.json() as SealStatus;
    assert.equal(opened.sealed, false);
    assert.equal(opened.progress, 0);
    assert.equal(await readyStatus(), 200);
    assert.equal((await status()).sealed, false);
  });

  it('an administrator creates a vault through the admin API and SecretClient sets and gets a secret', async () => {
    adminToken = await fetchToken(server.url, init.tenantId, init.clientId, init.clientSecret);
    const created = await server.api('POST', '/coffer/vaults', { body: { name: vault }, token: adminToken });
    assert.equal(created.status, 201, created.text);
    const body = created.json() as { name: string; vaultUrl: string };
    assert.equal(body.name, vault);
    assert.equal(body.vaultUrl, server.vaultUrl(vault));

    const credential = credentialFor(
      { tenantId: init.tenantId, authorityHost: server.url },
      init.clientId,
      init.clientSecret,
    );
    secrets = new SecretClient(body.vaultUrl, credential);
    secretsNoRetry = new SecretClient(body.vaultUrl, credential, { retryOptions: { maxRetries: 0 } });
    const stored = await secrets.setSecret('first', firstValue);
    const read = await secrets.getSecret('first');
    assert.equal(read.value, firstValue);
    assert.equal(read.properties.version, stored.properties.version);
  });

  it('a user signs in to the web console (the session is kept behind the barrier)', async () => {
    const created = await bearerRequest(`${server.url}/coffer/users`, adminToken, 'POST', {
      userPrincipalName: 'sealer@coffer.test',
      password: CONSOLE_PASSWORD,
    });
    assert.equal(created.status, 201, created.text);
    consoleSession = (await consoleSignIn(server.url, 'sealer@coffer.test', CONSOLE_PASSWORD)).session;
    assert.equal((await consoleRequest(`${server.url}/ui/vaults`, consoleSession)).status, 200);
  });

  it('operator seal needs an administrator token, then seals: 503 everywhere again', async () => {
    const anonymous = await server.api('POST', '/coffer/operator/seal');
    assertAzureError(anonymous, 401);
    assert.equal((await status()).sealed, false, 'an anonymous seal request changes nothing');

    const sealed = await server.api('POST', '/coffer/operator/seal', { token: adminToken });
    assert.equal(sealed.status, 200, sealed.text);
    assert.equal((sealed.json() as SealStatus).sealed, true);
    await assertEverythingUnavailable(init.tenantId);
    await assert.rejects(secretsNoRetry.getSecret('first'), { statusCode: 503 });
    // No console session is usable while sealed, and no sign-in can start: a page says why.
    for (const answer of [
      await consoleRequest(`${server.url}/ui/vaults`, consoleSession),
      await rawRequest(`${server.url}/ui/sign-in`),
    ]) {
      assert.equal(answer.status, 503, answer.text);
      assert.match(String(answer.headers['content-type']), /^text\/html/);
      assert.match(answer.text, /Coffer is sealed/);
      assert.doesNotMatch(answer.text, /sealer@coffer\.test/, 'nothing of the session is shown');
    }
  });

  it('shares from another installation do not unseal: 400, progress reset, still sealed', async () => {
    other = await startProductionServer();
    const otherInit = await other.api('POST', '/coffer/operator/init', { body: { shares: 5, threshold: 3 } });
    assert.equal(otherInit.status, 200, otherInit.text);
    const foreign = (otherInit.json() as InitResult).shares;
    assert.equal(await other.stop('SIGTERM'), 0);
    other = undefined;

    // Two of ours and one of theirs (at an x coordinate ours have not used).
    const given = [init.shares[0]!, init.shares[1]!];
    const stranger = foreign.find((share) => !given.map(xOf).includes(xOf(share)))!;
    for (const share of given) assert.equal((await unseal(share)).status, 200);
    assertAzureError(await unseal(stranger), 400);
    let now = await status();
    assert.equal(now.sealed, true);
    assert.equal(now.progress, 0, 'a failed combination resets the progress');

    // A whole quorum of theirs reconstructs their key, which does not open our store.
    const theirQuorum = foreign.slice(0, 3);
    for (const share of theirQuorum.slice(0, 2)) assert.equal((await unseal(share)).status, 200);
    assertAzureError(await unseal(theirQuorum[2]!), 400);
    now = await status();
    assert.equal(now.sealed, true);
    assert.equal(now.progress, 0);
    await assertEverythingUnavailable(init.tenantId);
  });

  it('a share given again with a typo does not unseal and is refused with 400, never a 5xx', async () => {
    const typo = shareBytes(init.shares[0]!);
    typo[4] = typo[4]! ^ 0x01; // same holder (same x coordinate), one byte mistyped
    const attempts = [init.shares[0]!, typo.toString('base64'), init.shares[3]!];
    const statuses: number[] = [];
    for (const share of attempts) {
      const response = await unseal(share);
      statuses.push(response.status);
      if (response.status !== 200) {
        assertAzureError(response, 400);
        break;
      }
    }
    assert.equal(statuses.at(-1), 400, `a share set that cannot be right is refused (statuses ${statuses})`);
    assert.equal((await status()).sealed, true);
    const reset = await server.api('POST', '/coffer/operator/unseal', { body: { reset: true } });
    assert.equal(reset.status, 200, reset.text);
    assert.equal((reset.json() as SealStatus).progress, 0, '{reset: true} clears the progress');
  });

  it('three of our shares unseal again and the secret is still there', async () => {
    await unsealWith([init.shares[2]!, init.shares[3]!, init.shares[4]!]);
    assert.equal(await readyStatus(), 200);
    assert.equal((await secrets.getSecret('first')).value, firstValue);
    // The console session survived the seal within its lifetime (docs/console.md).
    const page = await consoleRequest(`${server.url}/ui/vaults`, consoleSession);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /sealer@coffer\.test/);
  });

  it('after a restart on the same data dir it is sealed, with no unseal key on disk; unsealing brings the data back', async () => {
    assert.equal(await server.stop('SIGTERM'), 0, 'SIGTERM exits 0');
    const dataDir = server.dataDir;
    const unsealKey = Buffer.from(
      await combine(init.shares.slice(0, 3).map((share) => new Uint8Array(shareBytes(share)))),
    );
    assert.equal(unsealKey.length, 32);
    const files = filesUnder(dataDir);
    assert.ok(!existsSync(path.join(dataDir, 'unseal.key')), 'no unseal.key in production');
    assert.deepEqual(leaksInFiles(files, unsealKey), [], 'the unseal key is nowhere in the data dir');
    for (const share of init.shares) assert.deepEqual(leaksInFiles(files, shareBytes(share)), []);

    server = await startProductionServer({ dataDir, port });
    assert.match(server.process.output, /sealed: run coffer operator unseal/);
    assert.deepEqual(await status(), {
      initialized: true,
      sealed: true,
      sealType: 'shamir',
      shares: 5,
      threshold: 3,
      progress: 0,
    });
    await assertEverythingUnavailable(init.tenantId);

    await unsealWith([init.shares[4]!, init.shares[0]!, init.shares[2]!]);
    assert.equal((await secrets.getSecret('first')).value, firstValue, 'same port, same client, same data');
    const vaults = await server.api('GET', '/coffer/vaults', { token: adminToken });
    assert.equal(vaults.status, 200, vaults.text);
    assert.deepEqual(
      (vaults.json() as { value: { name: string }[] }).value.map((v) => v.name),
      [vault],
    );
  });

  it('rotate raises the key term; secrets written before and after read back, also after seal and unseal', async () => {
    assertAzureError(await server.api('POST', '/coffer/operator/rotate'), 401);
    const keyStatus = async () => {
      const response = await server.api('GET', '/coffer/operator/key-status', { token: adminToken });
      assert.equal(response.status, 200, response.text);
      return response.json() as { term: number; rotatedAt: string; terms: number[] };
    };
    const before = await keyStatus();
    const beforeValue = `before-${randomBytes(12).toString('base64url')}`;
    await secrets.setSecret('before-rotation', beforeValue);

    const rotated = await server.api('POST', '/coffer/operator/rotate', { token: adminToken });
    assert.equal(rotated.status, 200, rotated.text);
    const body = rotated.json() as { term: number; rotatedAt: string };
    assert.equal(body.term, before.term + 1);
    assert.ok(!Number.isNaN(Date.parse(body.rotatedAt)), 'rotatedAt is a time');
    const afterRotation = await keyStatus();
    assert.equal(afterRotation.term, before.term + 1);
    assert.ok(afterRotation.terms.includes(before.term) && afterRotation.terms.includes(afterRotation.term));

    const afterValue = `after-${randomBytes(12).toString('base64url')}`;
    await secrets.setSecret('after-rotation', afterValue);
    const firstV2 = `first-v2-${randomBytes(12).toString('base64url')}`;
    const firstVersions = [(await secrets.getSecret('first')).properties.version!];
    firstVersions.push((await secrets.setSecret('first', firstV2)).properties.version!);

    const expectAll = async () => {
      assert.equal((await secrets.getSecret('before-rotation')).value, beforeValue);
      assert.equal((await secrets.getSecret('after-rotation')).value, afterValue);
      assert.equal((await secrets.getSecret('first', { version: firstVersions[0] })).value, firstValue);
      assert.equal((await secrets.getSecret('first', { version: firstVersions[1] })).value, firstV2);
      assert.equal((await secrets.getSecret('first')).value, firstV2);
    };
    await expectAll();

    const sealed = await server.api('POST', '/coffer/operator/seal', { token: adminToken });
    assert.equal(sealed.status, 200, sealed.text);
    await unsealWith([init.shares[1]!, init.shares[3]!, init.shares[0]!]);
    await expectAll();
    assert.equal((await keyStatus()).term, before.term + 1, 'the new term survives seal and unseal');
  });
});
