import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createArm } from './arm/arm.js';
import { vaultResourceId } from './arm/resource-ids.js';
import { createBackupCodec } from './backup/backup-codec.js';
import { createBackupJobs } from './backup/backup-jobs.js';
import { createVaultRestore } from './backup/vault-restore.js';
import { NotFound } from './errors/index.js';
import { Barrier } from './barrier/barrier.js';
import { SIGN_IN_STATE_PREFIX } from './barrier/expiring-records.js';
import { prefixedView } from './barrier/secure-store.js';
import type { CofferConfig } from './config/types.js';
import { createAbuseGuard } from './core/abuse-guard.js';
import { shareThrottles, shareVaultThrottle } from './core/cluster-wiring.js';
import { createPipeline } from './core/pipeline.js';
import { createBackgroundJobs } from './app/background-jobs.js';
import { createTimeShift } from './core/time-shift.js';
import { createVaultThrottle } from './core/vault-throttle.js';
import { Runtime } from './core/runtime.js';
import { CommitRecordFile } from './core/commit-record.js';
import type { SealRelay } from './core/seal-relay.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { createHttpServer } from './http/server.js';
import { createEvents } from './events/events.js';
import { createIdentity } from './identity/identity.js';
import { createRoleService } from './policy/role-service.js';
import { createRoleStore } from './policy/role-store.js';
import { type Clock, systemClock } from './lib/clock.js';
import { Pkcs11KeyProvider } from './crypto/keys/pkcs11/provider.js';
import { RoutingKeyProvider } from './crypto/keys/routing-provider.js';
import { keyHandlePrefix } from './crypto/keys/key-handle-cache.js';
import { createCacheInvalidation, keyHandleInvalidation } from './core/cache-invalidation.js';
import { SoftwareKeyProvider } from './crypto/keys/software-provider.js';
import { createAutoUnseal } from './core/auto-unseal.js';
import { soonestCertificateExpiries } from './certificates/expiry-horizon.js';
import { createCertificateService } from './certificates/service.js';
import { createKeyService } from './keys/service.js';
import { isObjectHeadPath } from './objects/store.js';
import { createSecretService } from './secrets/service.js';
import { openKeyWrapper } from './seal/wrappers.js';
import { FaultCounters } from './storage/fault-counters.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { createVaultService } from './vaults/service.js';
import type { VaultRecord } from './vaults/types.js';
import type { ObjectChangeListener } from './objects/types.js';
import { registerRoutes } from './app/http-routes.js';
import { eraseVaultData, openStorage } from './app/storage.js';
import { wireAlerts } from './app/alerts-wiring.js';
import { createSeal } from './app/seal-wiring.js';
import { openAudit } from './app/audit-wiring.js';
import { installationBootstrap } from './app/bootstrap.js';

/**
 * The one composition root (with its pieces in src/app/: the background jobs, the routes):
 * builds every concrete piece and wires them. Nothing else calls a constructor of another layer.
 */
export async function buildApp(
  config: CofferConfig,
  tls: { cert: string; key: string },
  clock: Clock = systemClock,
  sealRelay?: SealRelay,
) {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { http, closeGracefully } = createHttpServer({
    ...tls,
    logLevel: config.logLevel,
    limits: config.connections,
    onFrameworkError: async (request, reply, status, body) => {
      if (auditHooks) await auditHooks.frameworkError(request, reply, status, body);
      else await reply.code(status).send(body);
    },
  });
  const faults = new FaultCounters();
  const storage = await openStorage(config, http, faults);
  const cluster = storage.cluster;
  // The commit record finds a local file rolled back to an older copy; PostgreSQL is its own
  // authority on what was committed, so it has none (docs/fault-tolerance.md).
  const commitRecord =
    config.storage.type === 'sqlite'
      ? new CommitRecordFile(config.commitRecordFile, (message) => http.log.warn(message))
      : undefined;
  const barrier = new Barrier(storage, clock, {
    faults,
    committed: (record) => commitRecord?.committed(record),
    countCommits: commitRecord !== undefined,
    // Object heads (`data/{vault id}/secrets/{name}`: a name and a version id) are read on every
    // get; their decryption is kept while their stored bytes stay the same.
    notSecret: (path) => path.startsWith('data/') && isObjectHeadPath(path.slice(path.indexOf('/', 5) + 1)),
  });
  const systemStore = barrier.view('sys/');
  const runtime = new Runtime(barrier.view('sys/identity/'));
  // Console sessions, sign-ins in progress and authorization codes: short-lived, shared by every
  // worker and node, and outside every prefix whose change drops another member's caches.
  const sessionStore = barrier.view(SIGN_IN_STATE_PREFIX);
  const vaultData = (vault: VaultRecord) => barrier.view(`data/${vault.id}/`);

  let publicPort = config.port;
  const portSuffix = () => (publicPort === 443 ? '' : `:${publicPort}`);
  const authorityHost = () => `https://${config.publicHost}${portSuffix()}`;
  const vaultUrl = (name: string) => `https://${name}.${config.baseDomain}${portSuffix()}`;
  /** What the 401 challenge names as the resource, and so the audience clients ask tokens for. */
  const vaultResource = () => `https://${config.baseDomain}${portSuffix()}`;

  const { audit, auditLog, auditKeys, recordServiceEvent } = await openAudit(
    config.audit,
    http.log,
    systemStore,
    clock,
  );

  // The one seam through which caches drop what changed (and a cluster layer hears of it).
  const cacheInvalidation = createCacheInvalidation();
  const identity = createIdentity({
    store: barrier.view('sys/identity/'),
    clock,
    onChange: (objectId) => cacheInvalidation.changed('principal', objectId),
    signingKey: runtime.signingKey,
    tenantId: runtime.tenantId,
    issuerBase: authorityHost,
    // The bare base domain and Azure's own audience stay accepted: clients given a scope by hand use them.
    audiences: () => [
      ...new Set([vaultResource(), `https://${config.baseDomain}`, 'https://vault.azure.net']),
    ],
    managementAudiences: () => arm.audiences(),
    claim: (id, untilMs, nowMs) => cluster.claim(id, untilMs, nowMs),
    codeStore: prefixedView(sessionStore, 'authorization-codes/'),
  });
  const { principals, tokens } = identity;
  // -HSM keys of premium vaults live in the PKCS#11 token; every other key in software.
  const hsmKeys = config.pkcs11 && (await Pkcs11KeyProvider.open(config.pkcs11));
  const keyProvider = new RoutingKeyProvider(
    new SoftwareKeyProvider({ rsaWorkers: config.cryptoWorkers }),
    hsmKeys,
  );
  const keyChanged = keyHandleInvalidation(cacheInvalidation, keyProvider);
  cacheInvalidation.register('principal', (objectId) =>
    objectId === undefined ? identity.clearCaches() : identity.directory.invalidate(objectId),
  );
  // Vault domains see their vault's time (shifted in dev mode only); identity keeps the real one.
  const timeShift = createTimeShift(clock);
  const vaultClock = timeShift.clock;
  const inVaultTime = <T>(vault: VaultRecord, work: () => Promise<T>) => timeShift.run(vault, work);
  const vaults = createVaultService({
    system: systemStore,
    clock: vaultClock,
    // Runs when a deleted vault is purged: its token objects go with its records.
    eraseData: async (vault) => {
      const released = await keys.releaseHsmKeys(vault);
      if (released.failed > 0)
        http.log.warn({ event: 'hsm-keys-left', vault: vault.name, ...released }, 'hsm');
      await eraseVaultData(vaultData(vault));
      cacheInvalidation.changed('vault', keyHandlePrefix(vault.id));
      await events.forgetVault(vault);
      // A purged vault's metric series go with it: vault labels stay bounded by vaults that exist.
      metrics?.requests.forgetVault(vault.name);
      vaultThrottle.forget(vault);
    },
    removeRoleAssignments: (name) => roles.deleteAssignmentsUnder(`/vaults/${name}`),
    inVaultTime,
    // Service events (a permission model switch, a purge by the retention sweep) become audit
    // records beside their request's; access changes also become events.
    audit: (event) => {
      recordServiceEvent(event);
      void events.vaultChanged(event);
    },
    changed: (event) => void events.vaultChanged(event),
    hsmAvailable: () => keyProvider.hasHsm,
  });
  const arm = createArm({
    store: barrier.view('sys/arm/'),
    clock,
    vaults,
    tenantId: runtime.tenantId,
    settings: {
      subscriptionId: config.subscriptionId,
      defaultResourceGroup: config.defaultResourceGroup,
      location: config.region,
      baseDomain: config.baseDomain,
      publicHost: config.publicHost,
      authorityHost,
      vaultUrl,
    },
  });
  // After the writes commit, changes become events (docs/events.md).
  const events = createEvents({
    store: barrier.view('sys/events/'),
    config: config.events,
    clock,
    vaultClock,
    vaultUrl,
    topicOf: async (name) => {
      const vault = await vaults.find(name);
      const group = vault?.resource?.resourceGroup ?? config.defaultResourceGroup;
      return vaultResourceId(arm.subscriptionId(), group, name);
    },
    vaultNames: async () => (await vaults.list()).map((vault) => vault.name),
    log: auditLog,
  });
  const changed: ObjectChangeListener = (vault, change) => events.objectChanged(vault, change);
  const roles = createRoleService({
    store: createRoleStore(systemStore),
    clock,
    assignmentChanged: (action, assignment) => void events.roleAssignmentChanged(action, assignment),
    // Service principals (object or client id), users (object id or UPN) and groups all hold roles.
    resolvePrincipal: async (id) => {
      const objectId = await identity.resolveObjectId(id);
      if (!objectId)
        throw new NotFound('PrincipalNotFound', `No principal, user or group is '${id.slice(0, 128)}'.`);
      return objectId;
    },
    vaultExists: async (name) => (await vaults.find(name)) !== undefined,
  });
  const backupCodec = createBackupCodec(runtime.backupKey);
  const secrets = createSecretService({ vaultStore: vaultData, backupCodec, clock: vaultClock, changed });
  const keys = createKeyService({
    vaultStore: vaultData,
    backupCodec,
    clock: vaultClock,
    provider: keyProvider,
    onChange: keyChanged,
    changed,
  });
  // A certificate's key is its linked object: its changes reach the key's cached handles too.
  const certificates = createCertificateService({
    vaultStore: vaultData,
    backupCodec,
    clock: vaultClock,
    provider: keyProvider,
    onChange: keyChanged,
    changed,
  });

  const vaultRestore = createVaultRestore({ root: barrier, forgetVaults: () => vaults.clearCache() });
  const backupJobs = createBackupJobs(clock);
  if (hsmKeys) hsmKeys.token.onEvent = (event) => http.log.warn(event, 'hsm');

  const periodicJobs = createBackgroundJobs({
    vaults,
    secrets,
    keys,
    certificates,
    events,
    vaultRestore,
    vaultClock,
    inVaultTime,
    intervalMs: config.purgeIntervalSeconds * 1000,
    faults,
    log: http.log,
    leadership: cluster.leadership,
    expiringSweeps: [() => identity.codes.sweep(), () => webConsole.sweepSessions()],
  });
  // Auto-unseal: the key that wraps the unseal key, in another key vault or a PKCS#11 token.
  const wrapper = config.dev ? undefined : await openKeyWrapper(config.seal);
  // Damage is never silent: each fault is logged with its path (never content) and counted.
  faults.onFault((fault) =>
    http.log.error({ fault: fault.kind, path: fault.path, detail: fault.detail }, 'fault'),
  );
  const seal = createSeal({
    storage,
    barrier,
    clock,
    commitRecord,
    runtime,
    auditKeys,
    audit,
    events,
    periodicJobs,
    caches: { identity, keyProvider, vaults, roles, arm },
    wrapper,
    log: http.log,
  });

  // Started by main.ts: a node whose seal key answers opens itself, now or once it can.
  const autoUnseal = wrapper && createAutoUnseal(seal, wrapper.type, http.log);

  const bootstrap = installationBootstrap({ runtime, principals, roles, clock });

  const guard = createAbuseGuard(clock, shareThrottles(cluster));
  const vaultThrottle = createVaultThrottle(clock, shareVaultThrottle(cluster));
  const metrics = config.metrics.enabled
    ? createServerMetrics({
        sealed: () => barrier.isSealed,
        storageBytes: () => (storage instanceof SqliteStorage ? storage.diskBytes() : undefined),
        faults: () => faults.snapshot(),
        audit: () => audit?.broker.stats(),
        throttle: () => ({
          usagePercent: vaultThrottle.usagePercent(),
          throttled: vaultThrottle.throttledCounts(),
        }),
        certificateExpiries: async () => soonestCertificateExpiries(await vaults.list(), certificates),
        eventOutboxDepth: () => events.outboxDepth(),
        nowMs: () => clock.nowMs(),
      })
    : undefined;
  wireAlerts({ audit, config: config.alerts, events, auditLog, log: http.log, metrics });
  const bareHosts = new Set([config.publicHost, 'localhost', '127.0.0.1', '[::1]', '::1']);
  const pipeline = createPipeline({
    barrier,
    tokens,
    vaults,
    roles,
    guard,
    tenantId: runtime.tenantId,
    settings: {
      baseDomain: config.baseDomain,
      bareHosts,
      defaultVault: config.defaultVault,
      authorityHost,
      challengeResource: vaultResource,
      trustedProxies: config.trustedProxies,
    },
  });

  const { auditHooks, webConsole } = registerRoutes(http, {
    arm,
    audit,
    auditKeys,
    authorityHost,
    backupJobs,
    bareHosts,
    barrier,
    bootstrap,
    certificates,
    clock,
    config,
    events,
    guard,
    identity,
    inVaultTime,
    keys,
    metrics,
    periodicJobs,
    pipeline,
    roles,
    runtime,
    seal,
    sealRelay,
    secrets,
    sessionStore,
    storage,
    timeShift,
    vaultResource,
    vaultRestore,
    vaultThrottle,
    vaultUrl,
    vaults,
    wrapper,
  });

  return {
    http,
    seal,
    bootstrap,
    principals,
    roles,
    vaults,
    secrets,
    keys,
    certificates,
    periodicJobs,
    autoUnseal,
    vaultThrottle,
    storage,
    cluster,
    /** SQLite only: the copy of the commit count kept outside the store (rollback detection). */
    commitRecord,
    /** Faults counted since start (integrity failures, full disk, failed purges) for metrics. */
    faults,
    vaultUrl,
    authorityHost,
    subscriptionId: arm.subscriptionId,
    setPublicPort: (port: number) => {
      publicPort = port;
    },
    audit,
    /** For other modules (alerts): `events.publishEvent(vault, type, subject, data)`. */
    events,
    /** Undefined when metrics are turned off (metrics.enabled false). */
    metrics,
    /** Finishes requests in flight (within the shutdown deadline), then closes the store. */
    async close(): Promise<void> {
      autoUnseal?.stop();
      await closeGracefully();
      // Deliveries in flight end within their deadline; what is left stays in the outbox.
      await events.stop();
      // After the last request, before the seal: the shutdown checkpoint needs the key.
      await audit?.close();
      seal.seal();
      await storage.close();
      // After the server: a request still in flight may need an RSA worker thread or the token.
      await keyProvider.close();
      wrapper?.close?.();
    },
  };
}

export type CofferApp = Awaited<ReturnType<typeof buildApp>> & { http: FastifyInstance };
