import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { fetchToken, rawRequest } from './helpers/http.js';
import { freePort, type ProductionServer, startProductionServer } from './helpers/production-server.js';
import { cofferBin, credentialFor, repoRoot, scratchDir } from './helpers/server-process.js';
import { createTestToken, listObjects, objectBlocks, type TestToken } from './helpers/softhsm.js';

// A production server sealed by the token (auto-unseal), whose HSM keys can be backed up under
// the token's trusted backup key; killed with -9, deprived of its token, and moved off the seal
// with its recovery shares.

interface InitResult {
  shares: string[];
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

const BACKUP_LABEL = 'coffer-backup';
const MESSAGE = Buffer.from('sealed by the HSM');
const digest = createHash('sha256').update(MESSAGE).digest();

function coffer(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cofferBin, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

describe('production server with the pkcs11 seal and HSM backups', () => {
  let token: TestToken;
  let port: number;
  let server: ProductionServer;
  let init: InitResult;
  let key: KeyVaultKey;
  let env: Record<string, string>;

  const start = async (extra: Record<string, string> = {}) => {
    server = await startProductionServer({ dataDir: server?.dataDir, port, env: { ...env, ...extra } });
  };
  const keys = () =>
    new KeyClient(
      server.vaultUrl('hsm'),
      credentialFor({ tenantId: init.tenantId, authorityHost: server.url }, init.clientId, init.clientSecret),
      {
        retryOptions: { maxRetries: 0 },
      },
    );
  const signs = async (signer: KeyVaultKey) => {
    const credential = credentialFor(
      { tenantId: init.tenantId, authorityHost: server.url },
      init.clientId,
      init.clientSecret,
    );
    const { result } = await new CryptographyClient(signer.id!, credential).sign('ES256', digest);
    const publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64(key.key?.x), y: b64(key.key?.y) },
      format: 'jwk',
    });
    return verify('sha256', MESSAGE, { key: publicKey, dsaEncoding: 'ieee-p1363' }, result);
  };
  const ready = async () => (await rawRequest(`${server.url}/readyz`)).status === 200;

  before(async () => {
    token = createTestToken({ label: 'seal-test' });
    env = {
      ...token.env,
      COFFER_SEAL_TYPE: 'pkcs11',
      COFFER_SEAL_KEY_LABEL: 'coffer-seal',
      COFFER_PKCS11_BACKUP_KEY_LABEL: BACKUP_LABEL,
    };
    const created = await coffer(['hsm', 'create-backup-key', '--output', 'json'], {
      ...token.env,
      COFFER_PKCS11_SO_PIN: token.soPin,
      COFFER_PKCS11_BACKUP_KEY_LABEL: BACKUP_LABEL,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(JSON.parse(created.stdout), { label: BACKUP_LABEL, tokenLabel: token.label });
    port = await freePort();
    await start();
  });

  after(async () => {
    await server?.stop('SIGTERM');
  });

  it('init issues recovery shares and the token unseals the server at once', async () => {
    const response = await server.api('POST', '/coffer/operator/init', { body: { shares: 3, threshold: 2 } });
    assert.equal(response.status, 200, response.text);
    init = response.json() as InitResult;
    assert.equal(init.shares.length, 3, 'recovery shares, for moving off the HSM seal');
    const status = (await server.api('GET', '/coffer/operator/status')).json() as {
      sealed: boolean;
      sealType: string;
    };
    assert.deepEqual(
      { sealed: status.sealed, sealType: status.sealType },
      { sealed: false, sealType: 'pkcs11' },
    );
    assert.ok(await ready());
    assert.equal(
      objectBlocks(listObjects(token)).filter((block) => block.includes('label:      coffer-seal')).length,
      1,
    );

    const admin = await fetchToken(server.url, init.tenantId, init.clientId, init.clientSecret);
    const vault = await server.api('POST', '/coffer/vaults', {
      body: { name: 'hsm', sku: 'premium' },
      token: admin,
    });
    assert.equal(vault.status, 201, vault.text);
    key = await keys().createEcKey('sealed', { hsm: true, curve: 'P-256' });
    assert.ok(await signs(key));
  });

  it('unseals itself after kill -9, with no share given', async () => {
    assert.notEqual(await server.stop('SIGKILL'), 0);
    await start();
    assert.match(server.process.output, /unsealing with the HSM seal/);
    await until('the server unseals itself', ready);
    assert.ok(await signs(key), 'the HSM key still signs after the restart');
  });

  it('backs up an HSM key wrapped under the trusted backup key, and restores it after purge', async () => {
    const client = keys();
    const backup = await client.backupKey('sealed');
    assert.ok(backup && backup.length > 100);
    await (await client.beginDeleteKey('sealed', { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedKey('sealed');
    assert.equal(
      objectBlocks(listObjects(token)).filter((block) => block.includes('coffer/hsm/sealed')).length,
      0,
    );
    const restored = await client.restoreKeyBackup(backup!);
    assert.equal(b64(restored.key?.x), b64(key.key?.x), 'the same key, back in the token');
    assert.ok(await signs(restored));
    const privateBlocks = objectBlocks(listObjects(token)).filter(
      (block) => block.includes('coffer/hsm/sealed') && block.startsWith('Private'),
    );
    assert.equal(privateBlocks.length, 1);
    assert.match(privateBlocks[0]!, /Access:\s+sensitive/, 'still never readable in clear');
    key = restored;
  });

  it('answers 503 while the token is gone and serves again when it returns, with no restart', async () => {
    const [folder] = readdirSync(token.tokenDir);
    const present = path.join(token.tokenDir, folder!);
    const admin = await fetchToken(server.url, init.tenantId, init.clientId, init.clientSecret);
    const sign = () =>
      rawRequest(`${key.id}/sign?api-version=7.6`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ alg: 'ES256', value: digest.toString('base64url') }),
      });
    renameSync(present, `${present}.removed`);
    try {
      const refused = await sign();
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers['retry-after'], '5');
      assert.match(refused.text, /HSM that holds this key is unavailable/);
      const publicPart = await rawRequest(`${key.id}?api-version=7.6`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.equal(publicPart.status, 200, 'reading the public key needs no token');
    } finally {
      renameSync(`${present}.removed`, present);
    }
    await until('the token serves again', async () => (await sign()).status === 200);
    assert.match(server.process.output, /hsm-unavailable[\s\S]*hsm-restored/);
  });

  it('the recovery shares unseal the store without the HSM seal (seal migration)', async () => {
    assert.equal(await server.stop('SIGTERM'), 0);
    await start({ COFFER_SEAL_TYPE: 'shamir' });
    assert.match(server.process.output, /sealed: run coffer operator unseal/);
    assert.equal(await ready(), false);
    for (const share of init.shares.slice(1)) {
      const response = await server.api('POST', '/coffer/operator/unseal', { body: { share } });
      assert.equal(response.status, 200, response.text);
    }
    assert.ok(await ready());
    assert.ok(await signs(key), 'HSM keys work after the move');
  });

  it('refuses to start with a wrong PIN or a missing library, saying which', async () => {
    const fresh = {
      ...env,
      COFFER_DATA_DIR: scratchDir('hsm-refused'),
      COFFER_TLS_CERT_FILE: path.join(server.dataDir, 'tls', 'server.pem'),
      COFFER_TLS_KEY_FILE: path.join(server.dataDir, 'tls', 'server-key.pem'),
    };
    const wrongPin = await coffer(['server', '--port', '0'], { ...fresh, COFFER_PKCS11_PIN: 'not-the-pin' });
    assert.equal(wrongPin.code, 1);
    assert.match(
      wrongPin.stderr,
      /the server failed to start: the token refused the user PIN \(CKR_PIN_INCORRECT\)/,
    );
    assert.doesNotMatch(wrongPin.stderr + wrongPin.stdout, /not-the-pin/);
    const noLibrary = await coffer(['server', '--port', '0'], {
      ...fresh,
      COFFER_PKCS11_LIBRARY: '/nonexistent/libpkcs11.so',
    });
    assert.equal(noLibrary.code, 1);
    assert.match(noLibrary.stderr, /cannot load the PKCS#11 library \/nonexistent\/libpkcs11\.so/);
  });
});

const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('base64url');
