import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CertificateClient, type CertificatePolicy } from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { bearerRequest, fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { credentialFor, type DevServer, startDevServer } from './helpers/server-process.js';

// The authorization matrix, generated from the role definitions the server publishes: for every
// built-in role, a fresh principal holding that role on the vault tries every secrets and keys
// operation through the official SDK clients. What should happen is computed here, from the
// role's dataActions, with a matcher of the test's own (not the server's authorize()).

interface Role {
  id: string;
  name: string;
  roleType: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  condition?: string;
}

const REQUIRED_ROLES = [
  'Key Vault Administrator',
  'Key Vault Reader',
  'Key Vault Secrets Officer',
  'Key Vault Secrets User',
  'Key Vault Crypto Officer',
  'Key Vault Crypto User',
  'Key Vault Crypto Service Encryption User',
  'Key Vault Certificates Officer',
  'Key Vault Certificate User',
  'Key Vault Contributor',
  'Key Vault Data Access Administrator',
];

/** Azure's wildcard: `*` is any run of characters; case does not matter. */
function matches(pattern: string, action: string): boolean {
  const regex = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${regex}$`, 'i').test(action);
}

function expectAllowed(role: Role, action: string): boolean {
  return (
    role.dataActions.some((pattern) => matches(pattern, action)) &&
    !role.notDataActions.some((pattern) => matches(pattern, action))
  );
}

const KEY_VAULT_ADMINISTRATOR = '00482a5a-887f-4fb3-b363-3b7fe8e74483';
const GRANT_ACCESS = 'Microsoft.Authorization/roleAssignments/write';

/**
 * A management action, from the role's `actions`. Changing who may read a vault's data (its
 * permission model, its access policies) takes the right to grant access there, which a role's
 * ABAC condition may narrow: it must let the role hand out Key Vault Administrator.
 */
function expectManagementAllowed(role: Role, action: string): boolean {
  const granted =
    role.actions.some((pattern) => matches(pattern, action)) &&
    !role.notActions.some((pattern) => matches(pattern, action));
  if (action !== GRANT_ACCESS || !role.condition) return granted;
  return granted && role.condition.toLowerCase().includes(KEY_VAULT_ADMINISTRATOR);
}

type AdminCall = (method: string, path: string, body?: unknown) => Promise<RawResponse>;

/** The vault management operations, in an order where each leaves the vault usable for the next. */
const MANAGEMENT_OPERATIONS: Array<{
  name: string;
  action: string;
  run: (call: AdminCall, vault: string, self: string) => Promise<RawResponse>;
}> = [
  {
    name: 'getVault',
    action: 'Microsoft.KeyVault/vaults/read',
    run: (call, v) => call('GET', `/vaults/${v}`),
  },
  {
    name: 'updateVault',
    action: 'Microsoft.KeyVault/vaults/write',
    run: (call, v) => call('PATCH', `/vaults/${v}`, { softDeleteRetentionInDays: 30 }),
  },
  {
    name: 'addIpRule',
    action: 'Microsoft.KeyVault/vaults/write',
    run: (call, v) => call('POST', `/vaults/${v}/networkAcls/ipRules/add`, { value: '192.0.2.0/24' }),
  },
  {
    name: 'switchPermissionModel',
    action: GRANT_ACCESS,
    run: (call, v) => call('PATCH', `/vaults/${v}`, { enableRbacAuthorization: false }),
  },
  {
    name: 'setAccessPolicy',
    action: GRANT_ACCESS,
    run: (call, v, self) =>
      call('PUT', `/vaults/${v}/accessPolicies/add`, {
        properties: { accessPolicies: [{ objectId: self, permissions: { secrets: ['get'] } }] },
      }),
  },
  {
    name: 'deleteVault',
    action: 'Microsoft.KeyVault/vaults/delete',
    run: (call, v) => call('DELETE', `/vaults/${v}`),
  },
];

interface Clients {
  secrets: SecretClient;
  keys: KeyClient;
  crypto: CryptographyClient;
  /** Prefix of the objects prepared for this role alone (the ones an operation consumes). */
  own: string;
  secretBackup: Uint8Array;
  keyBackup: Uint8Array;
  certificates: CertificateClient;
  certificateBackup: Uint8Array;
}

const S = 'Microsoft.KeyVault/vaults/secrets/';
const K = 'Microsoft.KeyVault/vaults/keys/';
const C = 'Microsoft.KeyVault/vaults/certificates/';
const ISSUERS = 'Microsoft.KeyVault/vaults/certificatecas/';
const CONTACTS = 'Microsoft.KeyVault/vaults/certificatecontacts/write';
/** EC keys keep the matrix quick: RSA key generation would dominate it. */
const QUICK_POLICY: CertificatePolicy = {
  issuerName: 'Self',
  subject: 'CN=matrix',
  keyType: 'EC',
  keyCurveName: 'P-256',
};
const poll = { intervalInMs: 20 };
const DIGEST = Buffer.alloc(32, 7);
const first = async (pages: AsyncIterable<unknown>) => {
  for await (const page of pages) return page;
  return undefined;
};

/** Every data-plane secrets and keys operation, with the action Azure names for it. */
const OPERATIONS: Array<{
  name: string;
  action: string;
  run: (c: Clients, shared: Shared) => Promise<unknown>;
}> = [
  { name: 'setSecret', action: `${S}setSecret/action`, run: (c) => c.secrets.setSecret(`${c.own}-new`, 'v') },
  { name: 'getSecret', action: `${S}getSecret/action`, run: (c) => c.secrets.getSecret('shared') },
  {
    name: 'updateSecretProperties',
    action: `${S}update/action`,
    run: (c, s) => c.secrets.updateSecretProperties('shared', s.secretVersion, { tags: { t: c.own } }),
  },
  {
    name: 'listSecrets',
    action: `${S}readMetadata/action`,
    run: (c) => first(c.secrets.listPropertiesOfSecrets().byPage()),
  },
  {
    name: 'listSecretVersions',
    action: `${S}readMetadata/action`,
    run: (c) => first(c.secrets.listPropertiesOfSecretVersions('shared').byPage()),
  },
  { name: 'backupSecret', action: `${S}backup/action`, run: (c) => c.secrets.backupSecret('shared') },
  {
    name: 'restoreSecret',
    action: `${S}restore/action`,
    run: (c) => c.secrets.restoreSecretBackup(c.secretBackup),
  },
  {
    name: 'deleteSecret',
    action: `${S}delete`,
    run: (c) => c.secrets.beginDeleteSecret(`${c.own}-del`, poll),
  },
  {
    name: 'getDeletedSecret',
    action: `${S}readMetadata/action`,
    run: (c) => c.secrets.getDeletedSecret(`${c.own}-gone`),
  },
  {
    name: 'listDeletedSecrets',
    action: `${S}readMetadata/action`,
    run: (c) => first(c.secrets.listDeletedSecrets().byPage()),
  },
  {
    name: 'recoverSecret',
    action: `${S}recover/action`,
    run: (c) => c.secrets.beginRecoverDeletedSecret(`${c.own}-gone`, poll),
  },
  {
    name: 'purgeSecret',
    action: `${S}purge/action`,
    run: (c) => c.secrets.purgeDeletedSecret(`${c.own}-purge`),
  },

  {
    name: 'createKey',
    action: `${K}create/action`,
    run: (c) => c.keys.createEcKey(`${c.own}-new`, { curve: 'P-256' }),
  },
  {
    name: 'importKey',
    action: `${K}import/action`,
    run: (c, s) => c.keys.importKey(`${c.own}-imp`, s.importable),
  },
  { name: 'getKey', action: `${K}read`, run: (c) => c.keys.getKey('shared') },
  {
    name: 'updateKeyProperties',
    action: `${K}update/action`,
    run: (c, s) => c.keys.updateKeyProperties('shared', s.keyVersion, { tags: { t: c.own } }),
  },
  { name: 'listKeys', action: `${K}read`, run: (c) => first(c.keys.listPropertiesOfKeys().byPage()) },
  {
    name: 'listKeyVersions',
    action: `${K}read`,
    run: (c) => first(c.keys.listPropertiesOfKeyVersions('shared').byPage()),
  },
  { name: 'backupKey', action: `${K}backup/action`, run: (c) => c.keys.backupKey('shared') },
  { name: 'restoreKey', action: `${K}restore/action`, run: (c) => c.keys.restoreKeyBackup(c.keyBackup) },
  { name: 'deleteKey', action: `${K}delete`, run: (c) => c.keys.beginDeleteKey(`${c.own}-del`, poll) },
  { name: 'getDeletedKey', action: `${K}read`, run: (c) => c.keys.getDeletedKey(`${c.own}-gone`) },
  { name: 'listDeletedKeys', action: `${K}read`, run: (c) => first(c.keys.listDeletedKeys().byPage()) },
  {
    name: 'recoverKey',
    action: `${K}recover/action`,
    run: (c) => c.keys.beginRecoverDeletedKey(`${c.own}-gone`, poll),
  },
  { name: 'purgeKey', action: `${K}purge/action`, run: (c) => c.keys.purgeDeletedKey(`${c.own}-purge`) },
  { name: 'rotateKey', action: `${K}rotate/action`, run: (c) => c.keys.rotateKey(`${c.own}-rot`) },
  {
    name: 'getRotationPolicy',
    action: 'Microsoft.KeyVault/vaults/keyrotationpolicies/read',
    run: (c) => c.keys.getKeyRotationPolicy('shared'),
  },
  {
    name: 'updateRotationPolicy',
    action: 'Microsoft.KeyVault/vaults/keyrotationpolicies/write',
    run: (c) =>
      c.keys.updateKeyRotationPolicy('shared', {
        lifetimeActions: [{ action: 'Notify', timeBeforeExpiry: 'P30D' }],
      }),
  },
  {
    name: 'getRandomBytes',
    action: 'Microsoft.KeyVault/vaults/rng/action',
    run: (c) => c.keys.getRandomBytes(16),
  },
  {
    name: 'encrypt',
    action: `${K}encrypt/action`,
    run: (c) => c.crypto.encrypt('RSA-OAEP', Buffer.from('hi')),
  },
  {
    name: 'decrypt',
    action: `${K}decrypt/action`,
    run: (c, s) => c.crypto.decrypt('RSA-OAEP', s.ciphertext),
  },
  {
    name: 'wrapKey',
    action: `${K}wrap/action`,
    run: (c) => c.crypto.wrapKey('RSA-OAEP', Buffer.alloc(32, 1)),
  },
  {
    name: 'unwrapKey',
    action: `${K}unwrap/action`,
    run: (c, s) => c.crypto.unwrapKey('RSA-OAEP', s.wrapped),
  },
  { name: 'sign', action: `${K}sign/action`, run: (c) => c.crypto.sign('RS256', DIGEST) },
  {
    name: 'createCertificate',
    action: `${C}create/action`,
    run: (c) => c.certificates.beginCreateCertificate(`${c.own}-cnew`, QUICK_POLICY, poll),
  },
  {
    name: 'importCertificate',
    action: `${C}import/action`,
    run: (c, s) =>
      c.certificates.importCertificate(`${c.own}-cimp`, s.importablePem, {
        policy: { contentType: 'application/x-pem-file' },
      }),
  },
  { name: 'getCertificate', action: `${C}read`, run: (c) => c.certificates.getCertificate('shared-cert') },
  {
    name: 'getCertificateVersion',
    action: `${C}read`,
    run: (c, s) => c.certificates.getCertificateVersion('shared-cert', s.certificateVersion),
  },
  {
    name: 'listCertificates',
    action: `${C}read`,
    run: (c) => first(c.certificates.listPropertiesOfCertificates().byPage()),
  },
  {
    name: 'listCertificateVersions',
    action: `${C}read`,
    run: (c) => first(c.certificates.listPropertiesOfCertificateVersions('shared-cert').byPage()),
  },
  {
    name: 'updateCertificateProperties',
    action: `${C}update/action`,
    run: (c, s) =>
      c.certificates.updateCertificateProperties('shared-cert', s.certificateVersion, { tags: { t: c.own } }),
  },
  {
    name: 'getCertificatePolicy',
    action: `${C}read`,
    run: (c) => c.certificates.getCertificatePolicy('shared-cert'),
  },
  {
    name: 'updateCertificatePolicy',
    action: `${C}update/action`,
    run: (c) =>
      c.certificates.updateCertificatePolicy('shared-cert', { ...QUICK_POLICY, validityInMonths: 13 }),
  },
  {
    name: 'backupCertificate',
    action: `${C}backup/action`,
    run: (c) => c.certificates.backupCertificate('shared-cert'),
  },
  {
    name: 'restoreCertificate',
    action: `${C}restore/action`,
    run: (c) => c.certificates.restoreCertificateBackup(c.certificateBackup),
  },
  {
    name: 'deleteCertificate',
    action: `${C}delete`,
    run: (c) => c.certificates.beginDeleteCertificate(`${c.own}-cdel`, poll),
  },
  {
    name: 'getDeletedCertificate',
    action: `${C}read`,
    run: (c) => c.certificates.getDeletedCertificate(`${c.own}-cgone`),
  },
  {
    name: 'listDeletedCertificates',
    action: `${C}read`,
    run: (c) => first(c.certificates.listDeletedCertificates().byPage()),
  },
  {
    name: 'recoverCertificate',
    action: `${C}recover/action`,
    run: (c) => c.certificates.beginRecoverDeletedCertificate(`${c.own}-cgone`, poll),
  },
  {
    name: 'purgeCertificate',
    action: `${C}purge/action`,
    run: (c) => c.certificates.purgeDeletedCertificate(`${c.own}-cpurge`),
  },
  {
    name: 'setContacts',
    action: CONTACTS,
    run: (c) => c.certificates.setContacts([{ email: 'pki@example.com', name: 'PKI' }]),
  },
  { name: 'getContacts', action: CONTACTS, run: (c) => c.certificates.getContacts() },
  {
    name: 'createIssuer',
    action: `${ISSUERS}write`,
    run: (c) => c.certificates.createIssuer(`${c.own}-new`, 'Test'),
  },
  { name: 'getIssuer', action: `${ISSUERS}read`, run: (c) => c.certificates.getIssuer('shared') },
  {
    name: 'listIssuers',
    action: `${ISSUERS}read`,
    run: (c) => first(c.certificates.listPropertiesOfIssuers().byPage()),
  },
  {
    name: 'deleteIssuer',
    action: `${ISSUERS}delete`,
    run: (c) => c.certificates.deleteIssuer(`${c.own}-iss`),
  },
  {
    name: 'verify',
    action: `${K}verify/action`,
    run: (c, s) => c.crypto.verify('RS256', DIGEST, s.signature),
  },
];

interface Shared {
  secretVersion: string;
  keyVersion: string;
  rsa: KeyVaultKey;
  ciphertext: Uint8Array;
  wrapped: Uint8Array;
  signature: Uint8Array;
  importable: { kty: 'oct'; k: Uint8Array };
  certificateVersion: string;
  /** A certificate and its private key as PEM, to import. */
  importablePem: Uint8Array;
}

/** A CryptographyClient without key material: every operation goes to the server. */
const remoteCrypto = (key: KeyVaultKey, credential: ReturnType<typeof credentialFor>) =>
  new CryptographyClient(
    { name: key.name, id: key.id, properties: { name: key.name, vaultUrl: key.properties.vaultUrl } },
    credential,
  );

describe('authorization matrix: every built-in role against every secrets, keys and certificates operation', () => {
  let server: DevServer;
  let token: string;
  let roles: Role[];
  let shared: Shared;
  let adminSecrets: SecretClient;
  let adminKeys: KeyClient;
  let adminCertificates: CertificateClient;

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await rawRequest(`${server.facts.url}/coffer${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(response.status < 300, `${method} /coffer${path}: ${response.status} ${response.text}`);
    return response.status === 204 ? undefined : response.json();
  };

  /** A new service principal holding one role at one scope. */
  const principalWithRole = async (name: string, role: string, scope: string) => {
    const principal = (await admin('POST', '/principals', { name })) as {
      objectId: string;
      clientId: string;
      clientSecret: string;
    };
    await admin('POST', '/roles/assignments', { role, principalId: principal.objectId, scope });
    return principal;
  };

  /** Objects one role's operations consume, made by the administrator. */
  const prepare = async (own: string) => {
    const settle = (promise: Promise<{ pollUntilDone: () => Promise<unknown> }>) =>
      promise.then((p) => p.pollUntilDone());
    await Promise.all([
      adminSecrets.setSecret(`${own}-del`, 'x'),
      adminSecrets
        .setSecret(`${own}-gone`, 'x')
        .then(() => settle(adminSecrets.beginDeleteSecret(`${own}-gone`, poll))),
      adminSecrets
        .setSecret(`${own}-purge`, 'x')
        .then(() => settle(adminSecrets.beginDeleteSecret(`${own}-purge`, poll))),
      adminKeys.createEcKey(`${own}-del`, { curve: 'P-256' }),
      adminKeys.createEcKey(`${own}-rot`, { curve: 'P-256' }),
      adminKeys
        .createEcKey(`${own}-gone`, { curve: 'P-256' })
        .then(() => settle(adminKeys.beginDeleteKey(`${own}-gone`, poll))),
      adminKeys
        .createEcKey(`${own}-purge`, { curve: 'P-256' })
        .then(() => settle(adminKeys.beginDeleteKey(`${own}-purge`, poll))),
    ]);
    // A backup of an object that no longer exists, so restoring it succeeds.
    await adminSecrets.setSecret(`${own}-res`, 'x');
    const secretBackup = (await adminSecrets.backupSecret(`${own}-res`))!;
    await settle(adminSecrets.beginDeleteSecret(`${own}-res`, poll));
    await adminSecrets.purgeDeletedSecret(`${own}-res`);
    await adminKeys.createEcKey(`${own}-res`, { curve: 'P-256' });
    const keyBackup = (await adminKeys.backupKey(`${own}-res`))!;
    await settle(adminKeys.beginDeleteKey(`${own}-res`, poll));
    await adminKeys.purgeDeletedKey(`${own}-res`);
    // Certificates take names of their own: a certificate's name is its key's and secret's too.
    const certificate = (name: string) =>
      settle(adminCertificates.beginCreateCertificate(name, QUICK_POLICY, poll));
    await Promise.all([
      certificate(`${own}-cdel`),
      certificate(`${own}-cgone`).then(() =>
        settle(adminCertificates.beginDeleteCertificate(`${own}-cgone`, poll)),
      ),
      certificate(`${own}-cpurge`).then(() =>
        settle(adminCertificates.beginDeleteCertificate(`${own}-cpurge`, poll)),
      ),
      adminCertificates.createIssuer(`${own}-iss`, 'Test'),
    ]);
    await certificate(`${own}-cres`);
    const certificateBackup = (await adminCertificates.backupCertificate(`${own}-cres`))!;
    await settle(adminCertificates.beginDeleteCertificate(`${own}-cres`, poll));
    await adminCertificates.purgeDeletedCertificate(`${own}-cres`);
    return { secretBackup, keyBackup, certificateBackup };
  };

  before(async () => {
    server = await startDevServer();
    const { facts } = server;
    token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    adminSecrets = server.secrets();
    adminKeys = new KeyClient(facts.vaultUrl, server.credential);
    adminCertificates = new CertificateClient(facts.vaultUrl, server.credential);
    roles = ((await admin('GET', '/roles/definitions')) as { value: Role[] }).value.filter(
      (role) => role.roleType === 'BuiltInRole',
    );
    const secret = await adminSecrets.setSecret('shared', 'shared value');
    const key = await adminKeys.createEcKey('shared', { curve: 'P-256' });
    const rsa = await adminKeys.createRsaKey('shared-rsa', { keySize: 2048 });
    const crypto = remoteCrypto(rsa, server.credential);
    const pemPolicy = { ...QUICK_POLICY, contentType: 'application/x-pem-file' as const };
    const certificate = await (
      await adminCertificates.beginCreateCertificate('shared-cert', pemPolicy, poll)
    ).pollUntilDone();
    await (await adminCertificates.beginCreateCertificate('pem-source', pemPolicy, poll)).pollUntilDone();
    // Named apart from the plain secret and key 'shared': a certificate's name is its key's and secret's too.
    const importablePem = Buffer.from((await adminSecrets.getSecret('pem-source')).value!);
    await adminCertificates.setContacts([{ email: 'pki@example.com', name: 'PKI' }]);
    await adminCertificates.createIssuer('shared', 'Test');
    shared = {
      secretVersion: secret.properties.version!,
      keyVersion: key.properties.version!,
      rsa,
      ciphertext: (await crypto.encrypt('RSA-OAEP', Buffer.from('hi'))).result,
      wrapped: (await crypto.wrapKey('RSA-OAEP', Buffer.alloc(32, 1))).result,
      signature: (await crypto.sign('RS256', DIGEST)).result,
      importable: { kty: 'oct', k: Buffer.alloc(32, 3) },
      certificateVersion: certificate.properties.version!,
      importablePem,
    };
  });

  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('publishes every built-in Key Vault role', () => {
    const names = roles.map((role) => role.name);
    for (const name of REQUIRED_ROLES) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  });

  it('allows exactly what each role’s dataActions say, and denies the rest with 403', async () => {
    const failures: string[] = [];
    const tally = new Map<string, Set<string>>();
    await Promise.all(
      roles.map(async (role, index) => {
        const own = `r${index}`;
        const principal = await principalWithRole(
          `matrix-${index}`,
          role.id,
          `/vaults/${server.facts.vaultName}`,
        );
        const { secretBackup, keyBackup, certificateBackup } = await prepare(own);
        const credential = credentialFor(server.facts, principal.clientId, principal.clientSecret);
        const clients: Clients = {
          secrets: new SecretClient(server.facts.vaultUrl, credential),
          keys: new KeyClient(server.facts.vaultUrl, credential),
          crypto: remoteCrypto(shared.rsa, credential),
          own,
          secretBackup,
          keyBackup,
          certificates: new CertificateClient(server.facts.vaultUrl, credential),
          certificateBackup,
        };
        for (const operation of OPERATIONS) {
          const expected = expectAllowed(role, operation.action);
          const outcome = await operation.run(clients, shared).then(
            () => 'allowed',
            (error: { statusCode?: number; code?: string; message?: string }) =>
              error.statusCode === 403 && error.code === 'Forbidden'
                ? 'denied'
                : `failed: ${error.statusCode} ${error.message}`,
          );
          tally.set(role.name, (tally.get(role.name) ?? new Set()).add(outcome));
          if (outcome !== (expected ? 'allowed' : 'denied'))
            failures.push(
              `${role.name} ${operation.name}: expected ${expected ? 'allowed' : 'denied'}, got ${outcome}`,
            );
        }
      }),
    );
    assert.deepEqual(failures, []);
    // The matrix is not vacuous: the widest role may do everything, the management role nothing.
    assert.deepEqual([...tally.get('Key Vault Administrator')!], ['allowed']);
    assert.deepEqual([...tally.get('Key Vault Contributor')!], ['denied']);
  });

  it('vault management: each role at a vault’s scope may do what its actions say there, and nothing elsewhere', async () => {
    await admin('POST', '/vaults', { name: 'bystander' });
    const failures: string[] = [];
    const allowedBy = new Map<string, string[]>();
    await Promise.all(
      roles.map(async (role, index) => {
        const vault = `mgmt-${index}`;
        await admin('POST', '/vaults', { name: vault });
        const principal = await principalWithRole(`mgmt-${index}`, role.id, `/vaults/${vault}`);
        const { authorityHost, tenantId } = server.facts;
        const own = await fetchToken(authorityHost, tenantId, principal.clientId, principal.clientSecret);
        const call: AdminCall = (method, path, body) =>
          bearerRequest(`${server.facts.url}/coffer${path}`, own, method, body);
        for (const operation of MANAGEMENT_OPERATIONS) {
          for (const [target, expected] of [
            ['bystander', false],
            [vault, expectManagementAllowed(role, operation.action)],
          ] as const) {
            const { status, text } = await operation.run(call, target, principal.objectId);
            const outcome =
              status < 300 ? 'allowed' : status === 403 ? 'denied' : `failed: ${status} ${text}`;
            if (outcome === 'allowed' && target === vault)
              allowedBy.set(role.name, [...(allowedBy.get(role.name) ?? []), operation.name]);
            if (outcome !== (expected ? 'allowed' : 'denied'))
              failures.push(
                `${role.name} ${operation.name} on ${target}: expected ${expected ? 'allowed' : 'denied'}, got ${outcome}`,
              );
          }
        }
      }),
    );
    assert.deepEqual(failures, []);
    // Not vacuous: Contributor manages its vault but never its access; the access role only that.
    assert.deepEqual(allowedBy.get('Key Vault Contributor'), [
      'getVault',
      'updateVault',
      'addIpRule',
      'deleteVault',
    ]);
    assert.deepEqual(allowedBy.get('Key Vault Data Access Administrator'), [
      'switchPermissionModel',
      'setAccessPolicy',
    ]);
    assert.equal(allowedBy.get('Key Vault Secrets User'), undefined, 'a data role manages nothing');
  });
});
