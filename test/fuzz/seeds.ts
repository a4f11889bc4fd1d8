import { createHash } from 'node:crypto';
import type { Route } from './route-table.js';
import type { Json } from './values.js';
import { CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID } from '../../src/identity/console-client.js';
import { CANARIES, CONSOLE_USER, VICTIM_VAULTS, WEBHOOK_ENDPOINT, type World } from './world.js';

/**
 * Valid request bodies per route: the fuzzer sends them as they are (so handlers run and state
 * moves) and mutated (so every check after the schema is reached with almost-right input).
 * A route that takes a body and has no entry here fails the coverage test.
 */
interface SeedRule {
  method: string;
  /** Matched against the route's URL pattern. */
  url: RegExp;
  /** JSON values (typed loosely: TypeScript widens literal unions with `undefined` fields). */
  seeds: (world: World) => unknown[];
}

/** Fixed bytes of a given length: a seed replays the same bodies. */
const b64url = (length: number) =>
  Buffer.concat(
    Array.from({ length: Math.ceil(length / 32) }, (_, block) =>
      createHash('sha256').update(`${length}/${block}`).digest(),
    ),
  )
    .subarray(0, length)
    .toString('base64url');
const plaintext = Buffer.from(CANARIES.plaintext).toString('base64url');

const attributes = { enabled: true, nbf: 1_700_000_000, exp: 2_000_000_000 };
const tags = { team: 'fuzz', 'env-1': 'test' };

const certificatePolicy: Json = {
  key_props: { kty: 'RSA', key_size: 2048, exportable: true, reuse_key: false },
  secret_props: { contentType: 'application/x-pem-file' },
  x509_props: {
    subject: 'CN=fuzz.coffer.test',
    sans: { dns_names: ['fuzz.coffer.test'], emails: ['fz@coffer.test'] },
    ekus: ['1.3.6.1.5.5.7.3.1'],
    key_usage: ['digitalSignature', 'keyEncipherment'],
    validity_months: 12,
  },
  lifetime_actions: [{ trigger: { lifetime_percentage: 80 }, action: { action_type: 'AutoRenew' } }],
  issuer: { name: 'Self' },
  attributes: { enabled: true },
};

const accessPolicyEntry = (world: World): Json => ({
  tenantId: world.tenantId,
  objectId: world.pools.principalId![0]!,
  permissions: { secrets: ['get', 'list'], keys: ['get'], certificates: [] },
});

const roleDefinition: Json = {
  name: 'fz-role',
  description: 'made by the fuzzer',
  actions: [],
  dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'],
  notActions: [],
  notDataActions: [],
};

const operation = (alg: string, extra: Record<string, Json> = {}): Json => ({
  alg,
  value: plaintext,
  ...extra,
});

const RULES: SeedRule[] = [
  // Identity: the token endpoint's form, as a Record of strings (sent form-encoded or as JSON).
  {
    method: 'POST',
    url: /\/oauth2\/v2\.0\/token$/,
    seeds: (world) => {
      const { facts } = world.server;
      const scope = `https://vault.localhost:${world.port}/.default`;
      return [
        {
          grant_type: 'client_credentials',
          client_id: facts.clientId,
          client_secret: facts.clientSecret,
          scope,
        },
        {
          grant_type: 'client_credentials',
          client_id: facts.clientId,
          client_secret: CANARIES.clientSecret,
          scope,
        },
        { grant_type: 'password', username: world.user.upn, password: world.user.password, scope },
        {
          grant_type: 'client_credentials',
          client_id: facts.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: world.forged.expired!,
          scope,
        },
      ];
    },
  },
  // Operator.
  { method: 'POST', url: /^\/coffer\/operator\/init$/, seeds: () => [{ shares: 3, threshold: 2 }] },
  {
    method: 'POST',
    url: /^\/coffer\/operator\/unseal$/,
    seeds: () => [{ share: b64url(33) }, { reset: true }],
  },
  // Vaults.
  {
    method: 'POST',
    url: /^\/coffer\/vaults$/,
    seeds: () => [
      { name: 'fz-made', softDeleteRetentionInDays: 7, enablePurgeProtection: false, sku: 'standard' },
    ],
  },
  {
    method: 'PATCH',
    url: /^\/coffer\/vaults\/:name$/,
    seeds: () => [
      { softDeleteRetentionInDays: 30 },
      { networkAcls: { defaultAction: 'Allow', ipRules: [{ value: '10.1.0.0/16' }] } },
      { enableRbacAuthorization: true },
    ],
  },
  {
    method: 'PUT',
    url: /^\/coffer\/vaults\/:name\/accessPolicies\/:kind$/,
    seeds: (world) => [{ properties: { accessPolicies: [accessPolicyEntry(world)] } }],
  },
  {
    method: 'POST',
    url: /^\/coffer\/vaults\/:name\/networkAcls\/ipRules\/:kind$/,
    seeds: () => [{ value: '10.2.0.0/16' }, { value: '2001:db8::/32' }],
  },
  // Principals, users, groups.
  { method: 'POST', url: /^\/coffer\/principals$/, seeds: () => [{ name: 'fz-made', administrator: false }] },
  { method: 'PATCH', url: /^\/coffer\/principals\/:id$/, seeds: () => [{ enabled: true }] },
  {
    method: 'POST',
    url: /^\/coffer\/principals\/:id\/certificates$/,
    seeds: (world) => [{ certificate: world.material.certificatePem, displayName: 'fz' }],
  },
  {
    method: 'POST',
    url: /^\/coffer\/principals\/:id\/federated-credentials$/,
    seeds: () => [
      {
        name: 'fz-made',
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'repo:coffer/fuzz:ref:refs/heads/main',
        audiences: ['api://AzureADTokenExchange'],
        description: 'fuzz',
      },
    ],
  },
  {
    method: 'POST',
    url: /^\/coffer\/users$/,
    seeds: () => [
      {
        userPrincipalName: 'fz-made@coffer.test',
        password: CANARIES.password,
        displayName: 'Fz',
        enabled: true,
      },
    ],
  },
  {
    method: 'PATCH',
    url: /^\/coffer\/users\/:id$/,
    seeds: () => [{ displayName: 'Fz again', enabled: true }, { password: `${CANARIES.password}-new` }],
  },
  {
    method: 'POST',
    url: /^\/coffer\/groups$/,
    seeds: () => [{ displayName: 'fz-made', description: 'fuzz' }],
  },
  {
    method: 'POST',
    url: /^\/coffer\/groups\/:id\/members$/,
    seeds: (world) => [{ memberId: world.pools.principalId![1]! }],
  },
  // Roles.
  { method: 'POST', url: /^\/coffer\/roles\/definitions$/, seeds: () => [roleDefinition] },
  { method: 'PUT', url: /^\/coffer\/roles\/definitions\/:id$/, seeds: () => [roleDefinition] },
  {
    method: 'POST',
    url: /^\/coffer\/roles\/assignments$/,
    seeds: (world) => [
      { role: 'Key Vault Reader', principalId: world.pools.principalId![1]!, scope: '/vaults/fz-victim' },
      {
        role: 'Key Vault Secrets User',
        principalId: world.pools.principalId![0]!,
        scope: '/vaults/dev/secrets/fz-secret',
      },
    ],
  },
  {
    method: 'PUT',
    url: /\/providers\/Microsoft\.Authorization\/roleAssignments\/:name$/,
    seeds: (world) => [
      {
        properties: {
          roleDefinitionId:
            'Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6',
          principalId: world.pools.principalId![0]!,
        },
      },
    ],
  },
  {
    method: 'PUT',
    url: /\/providers\/Microsoft\.Authorization\/roleDefinitions\/:name$/,
    seeds: () => [
      {
        properties: {
          roleName: 'fz-hsm-role',
          description: 'fuzz',
          type: 'CustomRole',
          permissions: [{ dataActions: ['Microsoft.KeyVault/vaults/keys/read'], actions: [] }],
          assignableScopes: ['/'],
        },
      },
    ],
  },
  // Secrets.
  {
    method: 'PUT',
    url: /^\/secrets\/:name$/,
    seeds: () => [{ value: CANARIES.secretValue, contentType: 'text/plain', tags, attributes }],
  },
  {
    method: 'PATCH',
    url: /^\/secrets\/:name(\/:version)?$/,
    seeds: () => [{ contentType: 'application/json', tags, attributes: { enabled: true } }],
  },
  { method: 'POST', url: /^\/secrets\/restore$/, seeds: (world) => [{ value: world.material.secretBackup }] },
  // Keys.
  {
    method: 'POST',
    url: /^\/keys\/:name\/create$/,
    seeds: () => [
      { kty: 'RSA', key_size: 2048, public_exponent: 65537, key_ops: ['sign', 'verify'], tags, attributes },
      { kty: 'EC', crv: 'P-384', key_ops: ['sign'] },
      { kty: 'oct', key_size: 128 },
      { kty: 'RSA-HSM', key_size: 2048 },
    ],
  },
  {
    method: 'PUT',
    url: /^\/keys\/:name$/,
    seeds: () => [
      {
        key: { kty: 'oct', k: b64url(32), key_ops: ['encrypt', 'decrypt'] },
        Hsm: false,
        attributes: { enabled: true },
      },
      {
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
          y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
          d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
        },
      },
    ],
  },
  {
    method: 'PATCH',
    url: /^\/keys\/:name(\/:version)?$/,
    seeds: () => [{ key_ops: ['encrypt', 'decrypt', 'sign', 'verify'], tags, attributes: { enabled: true } }],
  },
  {
    method: 'PUT',
    url: /^\/keys\/:name\/rotationpolicy$/,
    seeds: () => [
      {
        lifetimeActions: [
          { trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } },
          { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } },
        ],
        attributes: { expiryTime: 'P1Y' },
      },
    ],
  },
  {
    method: 'POST',
    url: /^\/keys\/:name(\/:version)?\/(encrypt|wrapkey)$/,
    seeds: () => [
      operation('RSA-OAEP-256'),
      operation('RSA-OAEP'),
      operation('RSA1_5'),
      operation('A256GCM', { aad: b64url(8) }),
      operation('A128CBCPAD', { iv: b64url(16) }),
      { alg: 'A128KW', value: b64url(16) },
    ],
  },
  {
    method: 'POST',
    url: /^\/keys\/:name(\/:version)?\/decrypt$/,
    seeds: (world) => world.material.decryptBodies,
  },
  {
    method: 'POST',
    url: /^\/keys\/:name(\/:version)?\/unwrapkey$/,
    seeds: (world) => [
      ...world.material.unwrapBodies,
      { alg: 'RSA-OAEP-256', value: b64url(256) },
      { alg: 'A256GCM', value: b64url(24), iv: b64url(12), tag: b64url(16), aad: b64url(8) },
      { alg: 'A128CBCPAD', value: b64url(32), iv: b64url(16) },
      { alg: 'A128KW', value: b64url(24) },
    ],
  },
  {
    method: 'POST',
    url: /^\/keys\/:name(\/:version)?\/sign$/,
    seeds: () => [
      { alg: 'RS256', value: b64url(32) },
      { alg: 'PS512', value: b64url(64) },
      { alg: 'ES256', value: b64url(32) },
    ],
  },
  {
    method: 'POST',
    url: /^\/keys\/:name(\/:version)?\/verify$/,
    seeds: (world) => [
      ...world.material.verifyBodies,
      { alg: 'RS256', digest: b64url(32), value: b64url(256) },
      { alg: 'ES256', digest: b64url(32), value: b64url(64) },
    ],
  },
  { method: 'POST', url: /^\/keys\/restore$/, seeds: (world) => [{ value: world.material.keyBackup }] },
  { method: 'POST', url: /^\/rng$/, seeds: () => [{ count: 32 }] },
  // Certificates.
  {
    method: 'POST',
    url: /^\/certificates\/:name\/create$/,
    seeds: () => [{ policy: certificatePolicy, tags, attributes: { enabled: true } }],
  },
  {
    method: 'POST',
    url: /^\/certificates\/:name\/import$/,
    seeds: (world) => [
      {
        value: world.material.certificatePkcs12,
        policy: { secret_props: { contentType: 'application/x-pkcs12' } },
      },
      { value: world.material.certificatePkcs12, pwd: CANARIES.issuerPassword },
    ],
  },
  {
    method: 'PATCH',
    url: /^\/certificates\/:name(\/:version)?$/,
    seeds: () => [{ tags, attributes: { enabled: true } }, { policy: certificatePolicy }],
  },
  { method: 'PATCH', url: /^\/certificates\/:name\/policy$/, seeds: () => [certificatePolicy] },
  {
    method: 'PATCH',
    url: /^\/certificates\/:name\/pending$/,
    seeds: () => [{ cancellation_requested: true }],
  },
  {
    method: 'POST',
    url: /^\/certificates\/:name\/pending\/merge$/,
    seeds: (world) => [{ x5c: [world.material.certificateDerB64] }],
  },
  {
    method: 'POST',
    url: /^\/certificates\/restore$/,
    seeds: (world) => [{ value: world.material.certificateBackup }],
  },
  {
    method: 'PUT',
    url: /^\/certificates\/contacts$/,
    seeds: () => [{ contacts: [{ email: 'fz@coffer.test', name: 'Fz', phone: '0123' }] }],
  },
  {
    method: 'PUT|PATCH',
    url: /^\/certificates\/issuers\/:issuer$/,
    seeds: () => [
      {
        provider: 'Test',
        credentials: { account_id: 'fz', pwd: CANARIES.issuerPassword },
        org_details: {
          id: 'org',
          admin_details: [{ first_name: 'F', last_name: 'Z', email: 'fz@coffer.test', phone: '1' }],
        },
        attributes: { enabled: true },
      },
    ],
  },
  // Managed HSM's backup, restore and settings APIs at the vault's URL.
  {
    method: 'POST',
    url: /^\/backup$/,
    seeds: (world) => [
      { storageResourceUri: world.material.vaultBackup.storageResourceUri },
      {
        storageResourceUri: world.material.vaultBackup.storageResourceUri,
        token: 'fz',
        useManagedIdentity: false,
      },
    ],
  },
  {
    method: 'PUT',
    url: /^\/restore$/,
    seeds: (world) => [
      {
        sasTokenParameters: { storageResourceUri: world.material.vaultBackup.storageResourceUri },
        folderToRestore: world.material.vaultBackup.folder,
      },
    ],
  },
  {
    method: 'PUT',
    url: /^\/keys\/:name\/restore$/,
    seeds: (world) => [
      {
        sasTokenParameters: {
          storageResourceUri: world.material.vaultBackup.storageResourceUri,
          token: 'fz',
        },
        folder: world.material.vaultBackup.folder,
      },
    ],
  },
  { method: 'PATCH', url: /^\/settings\/:name$/, seeds: () => [{ value: 'false' }, { value: 'true' }] },
  // Dev mode and audit.
  {
    method: 'POST',
    url: /^\/coffer\/dev\/time-shift$/,
    seeds: () => [
      { days: 1, vault: VICTIM_VAULTS[1]! },
      { days: 400, vault: VICTIM_VAULTS[1]! },
    ],
  },
  { method: 'POST', url: /^\/coffer\/audit\/hmac$/, seeds: () => [{ name: 'fz-secret' }] },
  // Resource Manager.
  {
    method: 'PUT',
    url: /\/resource[gG]roups\/:resourceGroupName$/,
    seeds: () => [{ location: 'local', tags: { env: 'fuzz' } }],
  },
  {
    method: 'PUT',
    url: /\/vaults\/:vaultName$/,
    seeds: (world) => [
      world.material.armVaultBody as Json,
      {
        location: 'local',
        tags: { env: 'fuzz' },
        properties: {
          tenantId: world.tenantId,
          sku: { family: 'A', name: 'standard' },
          accessPolicies: [],
          enableRbacAuthorization: true,
          softDeleteRetentionInDays: 7,
        },
      },
    ],
  },
  {
    method: 'PATCH',
    url: /\/vaults\/:vaultName$/,
    seeds: () => [
      { tags: { env: 'fuzz' }, properties: { softDeleteRetentionInDays: 30 } },
      {
        properties: {
          networkAcls: {
            defaultAction: 'Allow',
            bypass: 'AzureServices',
            ipRules: [{ value: '10.3.0.0/16' }],
          },
        },
      },
    ],
  },
  {
    method: 'PUT',
    url: /\/vaults\/:vaultName\/accessPolicies\/:operationKind$/,
    seeds: (world) => [{ properties: { accessPolicies: [accessPolicyEntry(world)] } }],
  },
  {
    method: 'POST',
    url: /\/checkNameAvailability$/,
    seeds: () => [{ name: 'fz-free-name', type: 'Microsoft.KeyVault/vaults' }],
  },
  // Event subscriptions (the endpoint refuses connections: the answers matter, not delivery).
  {
    method: 'PUT',
    url: /^\/coffer\/vaults\/:name\/eventSubscriptions\/:name$/,
    seeds: () => [
      { endpoint: WEBHOOK_ENDPOINT },
      {
        endpoint: WEBHOOK_ENDPOINT,
        eventTypes: ['Microsoft.KeyVault.SecretNewVersionCreated', 'Microsoft.KeyVault.KeyNearExpiry'],
        schema: 'EventGridSchema',
      },
    ],
  },
  // The authorize endpoint's sign-in form, as the console's sign-in sends it.
  {
    method: 'POST',
    url: /\/oauth2\/v2\.0\/authorize$/,
    seeds: (world) => [
      {
        client_id: CONSOLE_CLIENT_ID,
        redirect_uri: `${world.server.facts.url}${CONSOLE_CALLBACK_PATH}`,
        response_type: 'code',
        code_challenge: b64url(32),
        code_challenge_method: 'S256',
        state: 'fz-state',
        scope: `https://vault.localhost:${world.port}/.default`,
        username: CONSOLE_USER,
        password: CANARIES.password,
      },
    ],
  },
  // The console's forms (requests.ts adds the session's CSRF token to the privileged ones).
  { method: 'POST', url: /^\/ui\/sign-out$/, seeds: () => [{}] },
  {
    method: 'POST',
    url: /^\/ui\/vaults\/:vault\/secrets$/,
    seeds: () => [
      { name: 'fz-ui', value: CANARIES.secretValue, contentType: 'text/plain', tags: 'team=fuzz\nenv=test' },
    ],
  },
  { method: 'POST', url: /^\/ui\/.*\/secrets\/:name\/reveal$/, seeds: () => [{ version: '' }] },
  { method: 'POST', url: /^\/ui\/.*\/secrets\/:name\/tags$/, seeds: () => [{ tags: 'team=fuzz\na=b' }] },
  { method: 'POST', url: /^\/ui\/.*\/(delete|recover|purge|rotate)$/, seeds: () => [{}] },
  {
    method: 'POST',
    url: /^\/ui\/vaults\/:vault\/keys$/,
    seeds: () => [
      { name: 'fz-ui', type: 'EC' },
      { name: 'fz-ui-rsa', type: 'RSA' },
    ],
  },
  {
    method: 'POST',
    url: /^\/ui\/.*\/keys\/:name\/rotation-policy$/,
    seeds: () => [{ rotateAfter: 'P90D', expiryTime: 'P1Y', notifyBefore: 'P30D' }],
  },
  { method: 'POST', url: /^\/ui\/.*\/keys\/:name\/sign$/, seeds: () => [{ text: 'hello from the fuzzer' }] },
  {
    method: 'POST',
    url: /^\/ui\/vaults\/:vault\/certificates$/,
    seeds: () => [{ name: 'fz-ui', subject: 'CN=fz-ui', validityMonths: '12', issuer: 'Self' }],
  },
  {
    method: 'POST',
    url: /^\/ui\/.*\/certificates\/:name\/merge$/,
    seeds: (world) => [{ certificate: world.material.certificatePem }],
  },
  {
    method: 'POST',
    url: /^\/ui\/.*\/access\/assignments$/,
    seeds: (world) => [{ role: 'Key Vault Reader', principalId: world.pools.principalId![1]!, scope: '' }],
  },
  {
    method: 'POST',
    url: /^\/ui\/.*\/access\/policies$/,
    seeds: (world) => [
      { change: 'add', objectId: world.pools.principalId![0]!, secrets: 'get' },
      { change: 'remove', objectId: world.pools.principalId![0]! },
    ],
  },
];

/**
 * Routes that take no body (the Key Vault API sends none, or an empty JSON object): the fuzzer
 * still sends them stray bodies.
 */
const BODILESS: Array<{ method: string; url: RegExp }> = [
  { method: 'POST', url: /^\/coffer\/operator\/(seal|rotate|check)$/ },
  { method: 'POST', url: /^\/coffer\/principals\/:id\/reset-secret$/ },
  { method: 'POST', url: /\/(backup|recover|rotate|purge)$/ },
  { method: 'DELETE', url: /./ },
];

const matches = (rule: { method: string; url: RegExp }, route: Route) =>
  rule.method.split('|').includes(route.method) && rule.url.test(route.url);

/** Valid bodies for a route; [] for a route that takes none; undefined when no rule knows it. */
export function seedsOf(route: Route, world: World): Json[] | undefined {
  const rule = RULES.find((candidate) => matches(candidate, route));
  if (rule) return rule.seeds(world) as Json[];
  if (
    !['POST', 'PUT', 'PATCH'].includes(route.method) ||
    BODILESS.some((bodiless) => matches(bodiless, route))
  )
    return [];
  return undefined;
}
