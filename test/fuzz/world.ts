import { createPrivateKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { adminApi, armScope, type TestPrincipal } from '../helpers/arm.js';
import { pemBlock } from '../helpers/certificates.js';
import { consoleRequest, consoleSignIn, csrfOf } from '../helpers/console-http.js';
import { decryptedRecords } from '../helpers/data-dir.js';
import { bearerRequest, fetchToken, rawRequest } from '../helpers/http.js';
import { copyOfDevStore, type DevServer, startDevServer } from '../helpers/server-process.js';
import { forgeTokens } from './forged-tokens.js';

/**
 * Values the fuzzer plants where secrets go (secret values, passwords, client secrets,
 * plaintexts): a refusal that quotes one of them, or a log line that holds one, is a leak.
 */
export const CANARIES = {
  secretValue: 'cnry-secret-5f1d0c2a',
  password: 'cnry-Passw0rd-77e1b9d4',
  clientSecret: 'cnry-client-secret-a8c3',
  plaintext: 'cnry-plaintext-0b6e41f7',
  issuerPassword: 'cnry-issuer-pwd-3d2c',
} as const;

/** The vault whose data plane most requests address; never deleted, firewalled or switched by the fuzzer. */
export const MAIN_VAULT = 'dev';
/** Vaults the fuzzer may delete, firewall or reconfigure through the admin API and ARM. */
export const VICTIM_VAULTS = ['fz-victim', 'fz-victim-two'];
/** A vault deleted while the world is built: something to read, recover or purge among deleted vaults. */
export const DELETED_VAULT = 'fz-gone';
export const NO_RIGHTS_COUNT = 8;
/** A subscription made while the world is built, on the first victim vault. */
export const EVENT_SUBSCRIPTION = 'fz-hook';
/**
 * Where subscriptions deliver: nothing listens on port 1, so the handshake fails at once. The
 * property is about the server's answers, not delivery (dev mode allows private endpoints).
 */
export const WEBHOOK_ENDPOINT = 'https://127.0.0.1:1/fz-hook';
/** The console's user: Key Vault Administrator at `/`, so its pages and forms reach the API. */
export const CONSOLE_USER = 'fz-console@coffer.test';
export const CONTRIBUTOR_COUNT = 3;

export interface World {
  server: DevServer;
  port: number;
  tenantId: string;
  /** Tokens: the dev administrator's (data plane and admin API) and its Resource Manager token. */
  adminToken: string;
  adminArmToken: string;
  /** Principals with no role at all, so their requests are refused by authorize(); several, so no throttle trips. */
  noRights: { vault: string; arm: string }[];
  /** Key Vault Secrets User on the main vault: may read secrets, not write them. */
  readerToken: string;
  /** Key Vault Contributor at `/`: manages vaults, never reaches data (finding 2 of issue 11). */
  contributors: { vault: string; arm: string }[];
  /** A user with no rights, for the password grant, and a token it signed in for. */
  user: { upn: string; password: string };
  userToken: string;
  /** A signed-in console session (its cookie value) and the CSRF token its forms carry. */
  console: { session: string; csrf: string };
  /** Tokens signed with the installation's real key that must each be refused (forged-tokens.ts). */
  forged: Record<string, string>;
  /** Valid values for path parameters, by pool name (see params.ts). */
  pools: Record<string, string[]>;
  /**
   * The values a request that deletes, replaces or disables may use, where the pool also holds
   * fixtures (fz-rsa, fz-user...) that must stay usable for the whole run.
   */
  disposable: Record<string, string[]>;
  /** Material for valid bodies: backups, a certificate. */
  material: {
    secretBackup: string;
    keyBackup: string;
    certificateBackup: string;
    certificatePem: string;
    certificatePkcs12: string;
    certificateDerB64: string;
    /** Bodies that succeed as they are: a real ciphertext, wrapped key or signature. */
    decryptBodies: unknown[];
    unwrapBodies: unknown[];
    verifyBodies: unknown[];
    armVaultBody: unknown;
    /** A finished backup of the main vault (Managed HSM's full backup API): where it is and its job. */
    vaultBackup: { storageResourceUri: string; folder: string; jobId: string };
  };
  /** Every value that must never appear in a refusal or a log. */
  secrets: string[];
}

/**
 * Starts a dev server on a copy of a stopped store, after reading the token signing key out of
 * that store (as only someone holding the unseal key could), so tokens can be forged that are
 * correctly signed yet expired, for another audience or for nobody.
 */
export async function startWorldServer(): Promise<{ server: DevServer; signingKey: KeyObject }> {
  const dataDir = await copyOfDevStore();
  const identity = await decryptedRecords(dataDir, 'sys/identity/');
  const stored = identity.get('token-signing-key');
  if (!stored) throw new Error('no token signing key in the dev store');
  const signingKey = createPrivateKey((JSON.parse(stored.toString('utf8')) as { pkcs8: string }).pkcs8);
  const server = await startDevServer({
    dataDir,
    env: {
      // No background sweep may write while a refused request is checked for changing nothing.
      COFFER_PURGE_INTERVAL_SECONDS: '86400',
      // Nor a second handshake with a subscription's endpoint (nothing listens there): the first
      // try fails during the request that made it, the next would come an hour later.
      COFFER_EVENTS_RETRY_INITIAL_SECONDS: '3600',
      COFFER_EVENTS_RETRY_MAX_SECONDS: '86400',
      // Short deadlines, so a request whose body never comes is answered 408 quickly.
      COFFER_REQUEST_HEADERS_TIMEOUT_SECONDS: '1',
      COFFER_REQUEST_TIMEOUT_SECONDS: '2',
    },
  });
  return { server, signingKey };
}

/** The console user, made and assigned its role through the admin API, signed in as a browser would. */
async function signInToConsole(server: DevServer, api: Awaited<ReturnType<typeof adminApi>>) {
  await api.admin('POST', '/users', { userPrincipalName: CONSOLE_USER, password: CANARIES.password });
  await api.admin('POST', '/roles/assignments', {
    role: 'Key Vault Administrator',
    principalId: CONSOLE_USER,
    scope: '/',
  });
  const { session } = await consoleSignIn(server.facts.url, CONSOLE_USER, CANARIES.password);
  const page = await consoleRequest(`${server.facts.url}/ui/vaults/${VICTIM_VAULTS[0]}/secrets`, session);
  return { session, csrf: csrfOf(page) };
}

type DataCall = ReturnType<typeof dataPlaneCaller>;

/** Builds what the fuzzer needs on the running server, through its own APIs. */
export async function buildWorld(server: DevServer, signingKey: KeyObject): Promise<World> {
  const { facts } = server;
  const api = await adminApi(server);
  const identities = await makeIdentities(server, api);
  const data = dataPlaneCaller(server, identities.adminToken);
  const fixtures = await makeAdminFixtures(api);
  const userToken = await passwordToken(server, identities.user.upn, identities.user.password);
  const objects = await makeVaultObjects(data, api, fixtures);
  const armVaultBody = await armGet(
    server,
    identities.adminArmToken,
    `/resourceGroups/coffer/providers/Microsoft.KeyVault/vaults/${VICTIM_VAULTS[0]}`,
  );
  const forged = await forgeTokens(server, signingKey, identities.noRightsObjectId);
  const vaultBackup = await takeVaultBackup(server, data);
  await api.admin('PUT', `/vaults/${VICTIM_VAULTS[0]}/eventSubscriptions/${EVENT_SUBSCRIPTION}`, {
    endpoint: WEBHOOK_ENDPOINT,
  });
  const consoleSession = await signInToConsole(server, api);
  await api.admin('POST', '/vaults', { name: DELETED_VAULT });
  await api.admin('DELETE', `/vaults/${DELETED_VAULT}`);
  const { stable, spare } = fixtures;
  return {
    server,
    port: server.port,
    tenantId: facts.tenantId,
    ...identities,
    userToken,
    console: consoleSession,
    forged,
    pools: {
      ...objects.pools,
      adminVault: [...VICTIM_VAULTS, 'fz-nonexistent'],
      armVault: [...VICTIM_VAULTS, 'fz-arm-new'],
      accessPolicyKind: ['add', 'replace', 'remove'],
      ipRuleKind: ['add', 'remove'],
      principalId: [stable.principal.objectId, stable.principal.clientId, spare.principal.objectId],
      userId: [stable.user.objectId, stable.user.upn, spare.user.upn],
      groupId: [stable.group.objectId, stable.group.name, spare.group.name],
      roleDefinitionId: [stable.role.id, 'Key Vault Reader', stable.role.name, spare.role.id],
      assignmentId: [stable.assignment.id, spare.assignment.id],
      roleAssignmentName: [objects.dataAssignments[0]!, objects.dataAssignments[1]!, stable.assignment.id],
      roleDefinitionName: [stable.role.id, spare.role.id, '4633458b-17de-408a-b874-0445c86b69e6'],
      credentialId: ['fz-federated'],
      memberId: [stable.principal.objectId],
      subscriptionId: [facts.subscriptionId],
      resourceGroup: ['coffer', 'fz-group-rg'],
      location: ['local'],
      operationId: [crypto.randomUUID()],
      tenantId: [facts.tenantId],
      jobId: [vaultBackup.jobId, crypto.randomUUID()],
      // A victim vault deleted by the fuzzer is listed here too: recovering it brings it back.
      deletedVault: [DELETED_VAULT, ...VICTIM_VAULTS, 'fz-nonexistent'],
      setting: ['AllowKeyManagementOperationsThroughARM', 'fz-no-such-setting'],
      eventSubscription: [EVENT_SUBSCRIPTION, 'fz-new-hook'],
      consoleAsset: ['console.css', 'console.js', 'fz-none.css'],
      deletedKind: ['secrets', 'keys', 'certificates'],
    },
    disposable: {
      secretName: ['fz-new'],
      keyName: ['fz-new'],
      certificateName: ['fz-new', 'fz-pending'],
      deletedName: ['fz-new'],
      principalId: [spare.principal.objectId],
      userId: [spare.user.upn],
      groupId: [spare.group.name],
      roleDefinitionId: [spare.role.id],
      assignmentId: [spare.assignment.id],
      roleAssignmentName: [objects.dataAssignments[1]!],
      roleDefinitionName: [spare.role.id],
      eventSubscription: ['fz-new-hook'],
    },
    material: { ...objects.material, armVaultBody, vaultBackup },
    secrets: [
      ...Object.values(CANARIES),
      facts.clientSecret,
      identities.adminToken,
      identities.adminArmToken,
      consoleSession.session,
    ],
  };
}

/** The callers the fuzzer speaks as: the administrator, principals without rights, a reader, a user. */
async function makeIdentities(server: DevServer, api: Awaited<ReturnType<typeof adminApi>>) {
  const { facts } = server;
  const token = (clientId: string, clientSecret: string, scope?: string) =>
    fetchToken(facts.authorityHost, facts.tenantId, clientId, clientSecret, scope);
  const tokensOf = async (principal: TestPrincipal) => ({
    vault: await token(principal.clientId, principal.clientSecret),
    arm: await token(principal.clientId, principal.clientSecret, armScope(server)),
  });
  const noRights = [];
  let noRightsObjectId = '';
  for (let i = 0; i < NO_RIGHTS_COUNT; i++) {
    const principal = (await api.admin('POST', '/principals', { name: `fz-none-${i}` })) as TestPrincipal;
    noRightsObjectId = principal.objectId;
    noRights.push(await tokensOf(principal));
  }
  const reader = await api.principalWithRole('fz-reader', 'Key Vault Secrets User', `/vaults/${MAIN_VAULT}`);
  const contributors = [];
  for (let i = 0; i < CONTRIBUTOR_COUNT; i++)
    contributors.push(
      await tokensOf(await api.principalWithRole(`fz-contributor-${i}`, 'Key Vault Contributor', '/')),
    );
  // Made with the admin fixtures (makeAdminFixtures: the stable user).
  const user = { upn: 'fz-user@coffer.test', password: CANARIES.password };
  return {
    adminToken: await token(facts.clientId, facts.clientSecret),
    adminArmToken: await token(facts.clientId, facts.clientSecret, armScope(server)),
    noRights,
    noRightsObjectId,
    readerToken: (await tokensOf(reader)).vault,
    contributors,
    user,
  };
}

interface AdminFixture {
  principal: TestPrincipal;
  user: { objectId: string; upn: string };
  group: { objectId: string; name: string };
  role: { id: string; name: string };
  assignment: { id: string };
}

/**
 * Two of each thing the admin API manages: the stable one for reads and additions, the spare
 * one for deletes and changes (World.disposable). Also the victim vaults.
 */
async function makeAdminFixtures(api: Awaited<ReturnType<typeof adminApi>>) {
  for (const name of VICTIM_VAULTS) await api.admin('POST', '/vaults', { name });
  const make = async (suffix: string, password: string): Promise<AdminFixture> => {
    const principal = (await api.admin('POST', '/principals', {
      name: `fz-victim${suffix}`,
    })) as TestPrincipal;
    const upn = `fz-user${suffix}@coffer.test`;
    const user = (await api.admin('POST', '/users', { userPrincipalName: upn, password })) as {
      objectId: string;
    };
    const groupName = `fz-group${suffix}`;
    const group = (await api.admin('POST', '/groups', { displayName: groupName })) as { objectId: string };
    await api.admin('POST', `/groups/${group.objectId}/members`, { memberId: principal.objectId });
    const roleName = `fz-custom-role${suffix}`;
    const role = (await api.admin('POST', '/roles/definitions', {
      name: roleName,
      dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'],
    })) as { id: string };
    const assignment = (await api.admin('POST', '/roles/assignments', {
      role: 'Key Vault Reader',
      principalId: principal.objectId,
      scope: `/vaults/${VICTIM_VAULTS[0]}`,
    })) as { id: string };
    return {
      principal,
      user: { objectId: user.objectId, upn },
      group: { objectId: group.objectId, name: groupName },
      role: { id: role.id, name: roleName },
      assignment,
    };
  };
  return { stable: await make('', CANARIES.password), spare: await make('-2', `${CANARIES.password}-2`) };
}

/** Secrets, keys, a certificate, issuers and contacts in the main vault, and backups to restore. */
async function makeVaultObjects(
  data: DataCall,
  api: Awaited<ReturnType<typeof adminApi>>,
  fixtures: Awaited<ReturnType<typeof makeAdminFixtures>>,
) {
  const { stable, spare } = fixtures;
  const secret = (await data('PUT', '/secrets/fz-secret', { value: CANARIES.secretValue })) as { id: string };
  await data('PUT', '/secrets/fz-secret', { value: `${CANARIES.secretValue}-2`, contentType: 'text/plain' });
  await data('PUT', '/secrets/fz-deleted', { value: CANARIES.secretValue });
  await data('DELETE', '/secrets/fz-deleted');
  const rsa = (await data('POST', '/keys/fz-rsa/create', { kty: 'RSA', key_size: 2048 })) as {
    key: { kid: string };
  };
  await data('POST', '/keys/fz-ec/create', { kty: 'EC', crv: 'P-256' });
  await data('POST', '/keys/fz-oct/create', { kty: 'oct', key_size: 256 });
  await data('PUT', '/keys/fz-rsa/rotationpolicy', {
    lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }],
    attributes: { expiryTime: 'P1Y' },
  });
  await data('POST', '/certificates/fz-cert/create', {
    policy: {
      key_props: { kty: 'RSA', key_size: 2048, exportable: true },
      secret_props: { contentType: 'application/x-pkcs12' },
      x509_props: { subject: 'CN=fz-cert', validity_months: 12 },
      issuer: { name: 'Self' },
    },
  });
  const certificate = (await data('GET', '/certificates/fz-cert')) as { cer: string };
  const certificateSecret = (await data('GET', '/secrets/fz-cert')) as { value: string };
  await data('PUT', '/certificates/issuers/fz-issuer', {
    provider: 'Test',
    credentials: { account_id: 'fz', pwd: CANARIES.issuerPassword },
  });
  await data('PUT', '/certificates/contacts', { contacts: [{ email: 'fz@coffer.test', name: 'fz' }] });
  const dataAssignments = [crypto.randomUUID(), crypto.randomUUID()];
  for (const [index, name] of dataAssignments.entries())
    await data('PUT', `/providers/Microsoft.Authorization/roleAssignments/${name}`, {
      properties: {
        roleDefinitionId: stable.role.id,
        principalId: [stable, spare][index]!.principal.objectId,
      },
    });
  // A certificate whose issuer signs outside Coffer stays pending: something to merge or cancel.
  await data('POST', '/certificates/fz-pending/create', {
    policy: { x509_props: { subject: 'CN=fz-pending' }, issuer: { name: 'Unknown' } },
  });
  const certificatePem = pemBlock('CERTIFICATE', Buffer.from(certificate.cer, 'base64'));
  await api.admin('POST', `/principals/${stable.principal.objectId}/certificates`, {
    certificate: certificatePem,
  });
  await api.admin('POST', `/principals/${stable.principal.objectId}/federated-credentials`, {
    name: 'fz-federated',
    issuer: 'https://issuer.coffer.test',
    subject: 'fz-subject',
  });
  return {
    dataAssignments,
    pools: {
      secretName: ['fz-secret', 'fz-cert', 'fz-new'],
      keyName: ['fz-rsa', 'fz-ec', 'fz-oct', 'fz-cert', 'fz-new'],
      certificateName: ['fz-cert', 'fz-pending', 'fz-new'],
      deletedName: ['fz-deleted', 'fz-new'],
      version: [secret.id.split('/').pop()!, rsa.key.kid.split('/').pop()!, ''],
      issuer: ['fz-issuer', 'fz-new-issuer'],
    },
    material: {
      ...(await restorableBackups(data)),
      ...(await cryptoResults(data)),
      certificateBackup: ((await data('POST', '/certificates/fz-cert/backup')) as { value: string }).value,
      certificatePem,
      certificatePkcs12: certificateSecret.value,
      certificateDerB64: certificate.cer,
    },
  };
}

/**
 * Results of real key operations, so decrypt, unwrap and verify have input that succeeds (and,
 * mutated, input that nearly does).
 */
async function cryptoResults(data: DataCall) {
  const plaintext = Buffer.from(CANARIES.plaintext).toString('base64url');
  const digest = Buffer.alloc(32, 7).toString('base64url');
  type Result = { value: string; iv?: string; tag?: string };
  const run = async (path: string, body: unknown) => (await data('POST', path, body)) as Result;
  const rsa = await run('/keys/fz-rsa/encrypt', { alg: 'RSA-OAEP-256', value: plaintext });
  const gcm = await run('/keys/fz-oct/encrypt', { alg: 'A256GCM', value: plaintext });
  const rsaWrapped = await run('/keys/fz-rsa/wrapkey', { alg: 'RSA-OAEP', value: digest });
  const aesWrapped = await run('/keys/fz-oct/wrapkey', { alg: 'A256KW', value: digest });
  const signature = await run('/keys/fz-ec/sign', { alg: 'ES256', value: digest });
  return {
    decryptBodies: [
      { alg: 'RSA-OAEP-256', value: rsa.value },
      { alg: 'A256GCM', value: gcm.value, iv: gcm.iv, tag: gcm.tag },
    ],
    unwrapBodies: [
      { alg: 'RSA-OAEP', value: rsaWrapped.value },
      { alg: 'A256KW', value: aesWrapped.value },
    ],
    verifyBodies: [{ alg: 'ES256', digest, value: signature.value }],
  };
}

/** Backups of a secret and a key that were then deleted and purged, so a restore can succeed once. */
async function restorableBackups(data: DataCall) {
  await data('PUT', '/secrets/fz-restored', { value: CANARIES.secretValue });
  await data('POST', '/keys/fz-restored/create', { kty: 'EC', crv: 'P-256' });
  const secretBackup = ((await data('POST', '/secrets/fz-restored/backup')) as { value: string }).value;
  const keyBackup = ((await data('POST', '/keys/fz-restored/backup')) as { value: string }).value;
  for (const kind of ['secrets', 'keys']) {
    await data('DELETE', `/${kind}/fz-restored`);
    await data('DELETE', `/deleted${kind}/fz-restored`);
  }
  return { secretBackup, keyBackup };
}

/**
 * A full backup of the main vault into the dev server's backup directory, waited for: the
 * restore routes get a folder that exists, and the status routes a job that does.
 */
async function takeVaultBackup(server: DevServer, data: DataCall) {
  const storageResourceUri = pathToFileURL(path.join(server.dataDir, 'backups')).href;
  const started = (await data('POST', '/backup', { storageResourceUri })) as { jobId: string };
  for (let attempt = 0; attempt < 200; attempt++) {
    const job = (await data('GET', `/backup/${started.jobId}/pending`)) as {
      status: string;
      azureStorageBlobContainerUri?: string;
    };
    if (job.status === 'Succeeded') {
      const folder = job.azureStorageBlobContainerUri!.split('/').pop()!;
      return { storageResourceUri, folder, jobId: started.jobId };
    }
    if (job.status !== 'InProgress') throw new Error(`the world's vault backup: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the world's vault backup did not finish in 10 s");
}

/** A data-plane caller on the main vault that insists on success: building the world must not fail quietly. */
function dataPlaneCaller(server: DevServer, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const url = `${server.facts.vaultUrl}${path}${path.includes('?') ? '&' : '?'}api-version=7.6`;
    const response = await bearerRequest(url, token, method, body);
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
    return response.text ? response.json() : undefined;
  };
}

async function passwordToken(server: DevServer, username: string, password: string): Promise<string> {
  const { facts } = server;
  const response = await rawRequest(`${facts.authorityHost}/${facts.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      username,
      password,
      scope: `https://vault.localhost:${server.port}/.default`,
    }).toString(),
  });
  if (response.status !== 200) throw new Error(`password grant: ${response.status} ${response.text}`);
  return (response.json() as { access_token: string }).access_token;
}

async function armGet(server: DevServer, token: string, path: string): Promise<unknown> {
  const { facts } = server;
  const url = `${facts.url}/subscriptions/${facts.subscriptionId}${path}?api-version=2024-11-01`;
  const response = await bearerRequest(url, token, 'GET');
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${response.text}`);
  return response.json();
}
