import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { spoolRecords } from './helpers/audit.js';
import { cofferJson } from './helpers/coffer-cli.js';
import { fetchToken, rawRequest } from './helpers/http.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// A vault using Azure's access policies instead of RBAC (issue 5): for every secrets and keys
// permission, a policy granting exactly that one permission lets the principal do exactly the
// operations Azure documents for it and refuses every other with 403, through the official SDK.

const VAULT = 'policies';
const noRetry = { retryOptions: { maxRetries: 0 } };

interface Fixtures {
  i: number;
  secret: { name: string; version: string };
  deletedSecret: string;
  purgeableSecret: string;
  secretBackup: Uint8Array;
  key: { name: string; version: string };
  deletedKey: string;
  purgeableKey: string;
  keyBackup: Uint8Array;
  rsaKeyId: string;
  ecKeyId: string;
  ciphertext: Uint8Array;
  wrapped: Uint8Array;
  digest: Uint8Array;
  signature: Uint8Array;
}

type Operation = [permission: string, label: string, run: (fx: Fixtures) => Promise<unknown>];

describe('access policies: each permission grants exactly its operations', () => {
  let server: DevServer;
  let vaultUrl: string;
  let reader: { objectId: string; clientId: string; clientSecret: string };
  let readerCredential: ReturnType<typeof credentialFor>;
  let adminToken: string;
  let secrets: SecretClient;
  let keys: KeyClient;
  let adminSecrets: SecretClient;
  let adminKeys: KeyClient;
  let counter = 0;

  const crypto = (keyId: string) => new CryptographyClient(keyId, readerCredential, noRetry);

  const SECRET_OPERATIONS: Operation[] = [
    ['get', 'getSecret', (fx) => secrets.getSecret(fx.secret.name)],
    ['get', 'getDeletedSecret', (fx) => secrets.getDeletedSecret(fx.deletedSecret)],
    ['list', 'listPropertiesOfSecrets', () => secrets.listPropertiesOfSecrets().byPage().next()],
    ['list', 'listVersions', (fx) => secrets.listPropertiesOfSecretVersions(fx.secret.name).byPage().next()],
    ['list', 'listDeletedSecrets', () => secrets.listDeletedSecrets().byPage().next()],
    ['set', 'setSecret', (fx) => secrets.setSecret(`new-${fx.i}`, 'value')],
    [
      'set',
      'updateSecretProperties',
      (fx) => secrets.updateSecretProperties(fx.secret.name, fx.secret.version, { tags: { t: '1' } }),
    ],
    ['delete', 'beginDeleteSecret', (fx) => secrets.beginDeleteSecret(fx.secret.name)],
    ['backup', 'backupSecret', (fx) => secrets.backupSecret(fx.secret.name)],
    ['restore', 'restoreSecretBackup', (fx) => secrets.restoreSecretBackup(fx.secretBackup)],
    ['recover', 'beginRecoverDeletedSecret', (fx) => secrets.beginRecoverDeletedSecret(fx.deletedSecret)],
    ['purge', 'purgeDeletedSecret', (fx) => secrets.purgeDeletedSecret(fx.purgeableSecret)],
  ];

  const KEY_OPERATIONS: Operation[] = [
    ['get', 'getKey', (fx) => keys.getKey(fx.key.name)],
    ['get', 'getDeletedKey', (fx) => keys.getDeletedKey(fx.deletedKey)],
    ['list', 'listPropertiesOfKeys', () => keys.listPropertiesOfKeys().byPage().next()],
    ['list', 'listKeyVersions', (fx) => keys.listPropertiesOfKeyVersions(fx.key.name).byPage().next()],
    ['list', 'listDeletedKeys', () => keys.listDeletedKeys().byPage().next()],
    ['create', 'createEcKey', (fx) => keys.createEcKey(`created-${fx.i}`)],
    ['import', 'importKey', (fx) => keys.importKey(`imported-${fx.i}`, ecJwk())],
    [
      'update',
      'updateKeyProperties',
      (fx) => keys.updateKeyProperties(fx.key.name, fx.key.version, { tags: { t: '1' } }),
    ],
    ['delete', 'beginDeleteKey', (fx) => keys.beginDeleteKey(fx.key.name)],
    ['backup', 'backupKey', (fx) => keys.backupKey(fx.key.name)],
    ['restore', 'restoreKeyBackup', (fx) => keys.restoreKeyBackup(fx.keyBackup)],
    ['recover', 'beginRecoverDeletedKey', (fx) => keys.beginRecoverDeletedKey(fx.deletedKey)],
    ['purge', 'purgeDeletedKey', (fx) => keys.purgeDeletedKey(fx.purgeableKey)],
    // RSA-OAEP-256 and EC keys: the SDK has no local provider for them, so each call reaches the server.
    [
      'encrypt',
      'encrypt',
      (fx) => crypto(fx.rsaKeyId).encrypt({ algorithm: 'RSA-OAEP-256', plaintext: Buffer.from('x') }),
    ],
    [
      'decrypt',
      'decrypt',
      (fx) => crypto(fx.rsaKeyId).decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: fx.ciphertext }),
    ],
    ['wrapKey', 'wrapKey', (fx) => crypto(fx.rsaKeyId).wrapKey('RSA-OAEP-256', randomBytes(32))],
    ['unwrapKey', 'unwrapKey', (fx) => crypto(fx.rsaKeyId).unwrapKey('RSA-OAEP-256', fx.wrapped)],
    ['sign', 'sign', (fx) => crypto(fx.ecKeyId).sign('ES256', fx.digest)],
    ['verify', 'verify', (fx) => crypto(fx.ecKeyId).verify('ES256', fx.digest, fx.signature)],
    ['rotate', 'rotateKey', (fx) => keys.rotateKey(fx.key.name)],
    ['getrotationpolicy', 'getKeyRotationPolicy', (fx) => keys.getKeyRotationPolicy(fx.key.name)],
    [
      'setrotationpolicy',
      'updateKeyRotationPolicy',
      (fx) => keys.updateKeyRotationPolicy(fx.key.name, { expiresIn: 'P90D' }),
    ],
  ];

  /**
   * A new principal for each permission: one principal refused hundreds of times a minute would
   * (rightly) be throttled with 429 after 100 refusals, which is not what these cases test.
   */
  async function useFreshReader(name: string) {
    reader = await cofferJson(server.dataDir, ['sp', 'create', '--name', name]);
    readerCredential = credentialFor(server.facts, reader.clientId, reader.clientSecret);
    secrets = new SecretClient(vaultUrl, readerCredential, noRetry);
    keys = new KeyClient(vaultUrl, readerCredential, noRetry);
  }

  /** Replaces the reader's policy through the admin API (Azure's accessPolicies/replace). */
  async function grant(permissions: { secrets?: string[]; keys?: string[] }) {
    const response = await rawRequest(`${server.facts.url}/coffer/vaults/${VAULT}/accessPolicies/replace`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { accessPolicies: [{ objectId: reader.objectId, permissions }] } }),
    });
    assert.equal(response.status, 200, response.text);
  }

  async function deleted(kind: 'secret' | 'key', name: string, purge = false) {
    if (kind === 'secret') {
      await (await adminSecrets.beginDeleteSecret(name)).pollUntilDone();
      if (purge) await adminSecrets.purgeDeletedSecret(name);
    } else {
      await (await adminKeys.beginDeleteKey(name)).pollUntilDone();
      if (purge) await adminKeys.purgeDeletedKey(name);
    }
    return name;
  }

  /** Fresh objects for one round, made by the administrator, so a granted operation always has its target. */
  async function fixtures(
    shared: Pick<Fixtures, 'rsaKeyId' | 'ecKeyId' | 'ciphertext' | 'wrapped' | 'digest' | 'signature'>,
  ): Promise<Fixtures> {
    const i = ++counter;
    const secret = await adminSecrets.setSecret(`s-${i}`, 'value');
    for (const name of [`ds-${i}`, `ps-${i}`, `bs-${i}`]) await adminSecrets.setSecret(name, 'value');
    const secretBackup = (await adminSecrets.backupSecret(`bs-${i}`))!;
    const key = await adminKeys.createEcKey(`k-${i}`);
    for (const name of [`dk-${i}`, `pk-${i}`, `bk-${i}`]) await adminKeys.createEcKey(name);
    const keyBackup = (await adminKeys.backupKey(`bk-${i}`))!;
    return {
      ...shared,
      i,
      secret: { name: secret.name, version: secret.properties.version! },
      deletedSecret: await deleted('secret', `ds-${i}`),
      purgeableSecret: await deleted('secret', `ps-${i}`),
      secretBackup: (await deleted('secret', `bs-${i}`, true), secretBackup),
      key: { name: key.name, version: key.properties.version! },
      deletedKey: await deleted('key', `dk-${i}`),
      purgeableKey: await deleted('key', `pk-${i}`),
      keyBackup: (await deleted('key', `bk-${i}`, true), keyBackup),
    };
  }

  /** `allowed`, `refused` (403), or the other failure, which a granted operation should not meet. */
  async function outcome(run: () => Promise<unknown>): Promise<string> {
    try {
      await run();
      return 'allowed';
    } catch (error) {
      const { statusCode, message } = error as { statusCode?: number; message?: string };
      return statusCode === 403 ? 'refused' : `failed (${statusCode}: ${message?.slice(0, 120)})`;
    }
  }

  let shared: Parameters<typeof fixtures>[0];

  before(async () => {
    server = await startDevServer();
    const { facts, dataDir } = server;
    const vault = await cofferJson<{ vaultUrl: string; enableRbacAuthorization: boolean }>(dataDir, [
      'vault',
      'create',
      VAULT,
      '--enable-rbac-authorization',
      'false',
    ]);
    assert.equal(vault.enableRbacAuthorization, false);
    vaultUrl = vault.vaultUrl;
    reader = await cofferJson(dataDir, ['sp', 'create', '--name', 'policy-reader']);
    readerCredential = credentialFor(facts, reader.clientId, reader.clientSecret);
    secrets = new SecretClient(vaultUrl, readerCredential, noRetry);
    keys = new KeyClient(vaultUrl, readerCredential, noRetry);
    // The administrator's role grants nothing in an access-policy vault: it needs a policy too.
    await cofferJson(dataDir, [
      'vault',
      'set-policy',
      VAULT,
      '--object-id',
      facts.clientId,
      '--secret-permissions',
      'all',
      '--key-permissions',
      'all',
    ]);
    adminToken = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    adminSecrets = new SecretClient(vaultUrl, server.credential);
    adminKeys = new KeyClient(vaultUrl, server.credential);
    const rsa = await adminKeys.createRsaKey('crypto-rsa');
    const ec = await adminKeys.createEcKey('crypto-ec', { curve: 'P-256' });
    const rsaCrypto = new CryptographyClient(rsa.id!, server.credential);
    const ecCrypto = new CryptographyClient(ec.id!, server.credential);
    const digest = randomBytes(32);
    shared = {
      rsaKeyId: rsa.id!,
      ecKeyId: ec.id!,
      ciphertext: (await rsaCrypto.encrypt({ algorithm: 'RSA-OAEP-256', plaintext: Buffer.from('x') }))
        .result,
      wrapped: (await rsaCrypto.wrapKey('RSA-OAEP-256', randomBytes(32))).result,
      digest,
      signature: (await ecCrypto.sign('ES256', digest)).result,
    };
  });
  after(() => server?.stop());

  it('a principal without a policy is refused (403), and set-policy/delete-policy work through the CLI', async () => {
    assert.equal(await outcome(() => secrets.listPropertiesOfSecrets().byPage().next()), 'refused');
    await cofferJson(server.dataDir, [
      'vault',
      'set-policy',
      VAULT,
      '--object-id',
      reader.clientId,
      '--secret-permissions',
      'list',
    ]);
    assert.equal(await outcome(() => secrets.listPropertiesOfSecrets().byPage().next()), 'allowed');
    const vault = await cofferJson<{ accessPolicies: { objectId: string }[] }>(server.dataDir, [
      'vault',
      'delete-policy',
      VAULT,
      '--object-id',
      reader.objectId,
    ]);
    assert.ok(!vault.accessPolicies.some((policy) => policy.objectId === reader.objectId));
    assert.equal(await outcome(() => secrets.listPropertiesOfSecrets().byPage().next()), 'refused');
  });

  const cases: [kind: 'secrets' | 'keys', permissions: string[], operations: () => Operation[]][] = [
    [
      'secrets',
      ['get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge'],
      () => SECRET_OPERATIONS,
    ],
    [
      'keys',
      [
        'get',
        'list',
        'update',
        'create',
        'import',
        'delete',
        'recover',
        'backup',
        'restore',
        'decrypt',
        'encrypt',
        'unwrapKey',
        'wrapKey',
        'verify',
        'sign',
        'purge',
        'release',
        'rotate',
        'getrotationpolicy',
        'setrotationpolicy',
      ],
      () => KEY_OPERATIONS,
    ],
  ];
  for (const [kind, permissions, operations] of cases) {
    for (const permission of permissions) {
      it(`${kind} ${permission}`, async () => {
        await useFreshReader(`policy-${kind}-${permission}`);
        await grant({ [kind]: [permission] });
        const fx = await fixtures(shared);
        const wrong: string[] = [];
        for (const [needed, label, run] of operations()) {
          const expected = needed === permission ? 'allowed' : 'refused';
          const actual = await outcome(() => run(fx));
          if (actual !== expected) wrong.push(`${label}: ${actual}, expected ${expected}`);
        }
        assert.deepEqual(wrong, []);
      });
    }
  }

  it('switching the permission model is an audit record, and RBAC then ignores the policies', async () => {
    await grant({ secrets: ['all'] });
    await cofferJson(server.dataDir, ['vault', 'update', VAULT, '--enable-rbac-authorization', 'true']);
    const switched = spoolRecords(server.dataDir).filter(
      (record) =>
        record.operationName === 'VaultPermissionModelChanged' && record.resourceId === `/vaults/${VAULT}`,
    );
    assert.deepEqual(switched.at(-1)?.properties?.['change'], { from: 'AccessPolicies', to: 'RBAC' });
    assert.equal(await outcome(() => secrets.listPropertiesOfSecrets().byPage().next()), 'refused');
    await cofferJson(server.dataDir, ['vault', 'update', VAULT, '--enable-rbac-authorization', 'false']);
    assert.equal(await outcome(() => secrets.listPropertiesOfSecrets().byPage().next()), 'allowed');
  });

  it('all grants every operation of its kind and none of the other kind', async () => {
    await grant({ secrets: ['all'] });
    const fx = await fixtures(shared);
    // Passing authorization is what counts here: a later operation may find an earlier one deleted its target.
    for (const [, label, run] of SECRET_OPERATIONS)
      assert.notEqual(await outcome(() => run(fx)), 'refused', label);
    for (const [, label, run] of KEY_OPERATIONS) assert.equal(await outcome(() => run(fx)), 'refused', label);
  });
});

function ecJwk() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const bytes = (text?: string) => Buffer.from(text ?? '', 'base64url');
  return { kty: 'EC' as const, crv: 'P-256' as const, x: bytes(jwk.x), y: bytes(jwk.y), d: bytes(jwk.d) };
}
