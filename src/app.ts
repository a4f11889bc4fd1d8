import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createArm } from './arm/arm.js';
import { AuditKeys } from './audit/audit-keys.js';
import { auditRoutes } from './audit/routes.js';
import { type ServiceEvent, serviceEventRecord } from './audit/service-event.js';
import { type AuditLogHandle, openAuditLog } from './audit/setup.js';
import type { AuditLog } from './audit/types.js';
import { createBackupCodec } from './backup/backup-codec.js';
import { createBackupJobs } from './backup/backup-jobs.js';
import { hsmBackupRoutes } from './backup/hsm-routes.js';
import { installationBackupRoutes } from './backup/routes.js';
import { writeVaultBackup } from './backup/vault-backup.js';
import { createVaultRestore } from './backup/vault-restore.js';
import { BadParameter, CofferError } from './errors/index.js';
import { Barrier, KEYRING_PATH } from './barrier/barrier.js';
import type { CofferConfig } from './config/types.js';
import { createAbuseGuard } from './core/abuse-guard.js';
import { createPipeline } from './core/pipeline.js';
import { devRoutes } from './core/dev-routes.js';
import { createPeriodicJobs } from './core/periodic-jobs.js';
import { isHsmType, requestCost } from './core/request-cost.js';
import { createTimeShift } from './core/time-shift.js';
import { createVaultThrottle } from './core/vault-throttle.js';
import { operatorRoutes } from './core/routes.js';
import { Runtime } from './core/runtime.js';
import { CommitRecordFile } from './core/commit-record.js';
import { SealManager } from './core/seal-manager.js';
import { createStoreCheck } from './core/store-check.js';
import { INIT_PENDING_PATH, SEAL_CONFIG_PATH, WRAPPED_ROOT_KEY_PATH } from './seal/types.js';
import { adminPlane } from './http/admin-plane.js';
import { armPlane } from './http/arm-plane.js';
import { decorateAuditFields, registerAuditHooks } from './http/audit-hooks.js';
import { dataPlane } from './http/data-plane.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerMetricsRoute, registerRequestMetrics } from './http/metrics-routes.js';
import { startAlerts } from './audit/alerts/alerts.js';
import type { Alert } from './audit/alerts/types.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { createHttpServer } from './http/server.js';
import { createIdentity } from './identity/identity.js';
import { registerIdentityRoutes } from './identity/routes.js';
import { roleApiRoutes } from './policy/role-api.js';
import { roleAdminRoutes } from './policy/role-routes.js';
import { createRoleService, KEY_VAULT_ADMINISTRATOR_ROLE_ID } from './policy/role-service.js';
import { createRoleStore } from './policy/role-store.js';
import type { IssuedCredentials } from './identity/types.js';
import { type Clock, systemClock } from './lib/clock.js';
import { Pkcs11KeyProvider } from './crypto/keys/pkcs11/provider.js';
import { RoutingKeyProvider } from './crypto/keys/routing-provider.js';
import { keyHandlePrefix } from './crypto/keys/key-handle-cache.js';
import { createCacheInvalidation, keyHandleInvalidation } from './core/cache-invalidation.js';
import { cofferVersion } from './lib/version.js';
import { SoftwareKeyProvider } from './crypto/keys/software-provider.js';
import { createAutoUnseal } from './core/auto-unseal.js';
import { Pkcs11Seal } from './seal/pkcs11-seal.js';
import { certificateRoutes } from './certificates/routes.js';
import { soonestCertificateExpiries } from './certificates/expiry-horizon.js';
import { certificateRenewalSweep } from './certificates/renewal-job.js';
import { createCertificateService } from './certificates/service.js';
import { keyRoutes } from './keys/routes.js';
import { keyRotationSweep } from './keys/rotation-job.js';
import { createKeyService } from './keys/service.js';
import { isObjectHeadPath } from './objects/store.js';
import { secretRoutes } from './secrets/routes.js';
import { createSecretService } from './secrets/service.js';
import { PurgeFailed } from './objects/purge-expired.js';
import { FaultCounters } from './storage/fault-counters.js';
import { SPACE_PROBE_KEY, SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { vaultAdminRoutes } from './vaults/routes.js';
import { settingsRoutes } from './vaults/settings-routes.js';
import { createVaultService } from './vaults/service.js';
import type { VaultRecord } from './vaults/types.js';

export const ADMIN_PRINCIPAL_NAME = 'administrator';

/** Rows that are not barrier records: read before unsealing, or (the keyring) under the root key. */
const PLAIN_ROWS = new Set([
  SEAL_CONFIG_PATH,
  WRAPPED_ROOT_KEY_PATH,
  INIT_PENDING_PATH,
  KEYRING_PATH,
  SPACE_PROBE_KEY,
]);

/**
 * The one composition root: builds every concrete piece and wires them. Nothing else calls a
 * constructor of another layer.
 */
export async function buildApp(
  config: CofferConfig,
  tls: { cert: string; key: string },
  clock: Clock = systemClock,
) {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const faults = new FaultCounters();
  const storage = new SqliteStorage(config.storage.file, {
    cacheBytes: config.storage.cacheMiB * 1024 * 1024,
    faults,
  });
  const commitRecord = new CommitRecordFile(config.commitRecordFile, (message) => http.log.warn(message));
  const barrier = new Barrier(storage, clock, {
    faults,
    committed: (record) => commitRecord.committed(record),
    // Object heads (`data/{vault id}/secrets/{name}`: a name and a version id) are read on every
    // get; their decryption is kept while their stored bytes stay the same.
    notSecret: (path) => path.startsWith('data/') && isObjectHeadPath(path.slice(path.indexOf('/', 5) + 1)),
  });
  const systemStore = barrier.view('sys/');
  const runtime = new Runtime(barrier.view('sys/identity/'));
  const vaultData = (vault: VaultRecord) => barrier.view(`data/${vault.id}/`);

  let publicPort = config.port;
  const portSuffix = () => (publicPort === 443 ? '' : `:${publicPort}`);
  const authorityHost = () => `https://${config.publicHost}${portSuffix()}`;
  const vaultUrl = (name: string) => `https://${name}.${config.baseDomain}${portSuffix()}`;
  /** What the 401 challenge names as the resource, and so the audience clients ask tokens for. */
  const vaultResource = () => `https://${config.baseDomain}${portSuffix()}`;

  const { http, closeGracefully } = createHttpServer({
    ...tls,
    logLevel: config.logLevel,
    limits: config.connections,
    onFrameworkError: async (request, reply, status, body) => {
      if (auditHooks) await auditHooks.frameworkError(request, reply, status, body);
      else await reply.code(status).send(body);
    },
  });

  // The audit log writes its own operational lines through the server's logger.
  const auditLog: AuditLog = {
    info: (details, message) => http.log.info(details, message),
    warn: (details, message) => http.log.warn(details, message),
    error: (details, message) => http.log.error(details, message),
  };
  const audit: AuditLogHandle | undefined = config.audit.enabled
    ? await openAuditLog(config.audit, auditLog)
    : undefined;
  if (!audit)
    http.log.warn({}, 'the audit log is turned off (audit.enabled is false): requests leave no record');
  const auditKeys = new AuditKeys(systemStore);
  const recordServiceEvent = (event: ServiceEvent) => {
    audit?.broker.record(serviceEventRecord(event, clock.nowMs())).catch(() => {
      // The broker logs spool failures; the request's own record decides its answer.
    });
  };

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
      // A purged vault's metric series go with it: vault labels stay bounded by vaults that exist.
      metrics?.requests.forgetVault(vault.name);
      vaultThrottle.forget(vault);
    },
    removeRoleAssignments: (name) => roles.deleteAssignmentsUnder(`/vaults/${name}`),
    inVaultTime,
    // Service events (a permission model switch, a purge by the retention sweep) become audit
    // records beside their request's.
    audit: recordServiceEvent,
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
  const roles = createRoleService({
    store: createRoleStore(systemStore),
    clock,
    resolvePrincipal: async (id) => (await principals.find(id)).objectId,
    vaultExists: async (name) => (await vaults.find(name)) !== undefined,
  });
  const backupCodec = createBackupCodec(runtime.backupKey);
  const secrets = createSecretService({ vaultStore: vaultData, backupCodec, clock: vaultClock });
  const keys = createKeyService({
    vaultStore: vaultData,
    backupCodec,
    clock: vaultClock,
    provider: keyProvider,
    onChange: keyChanged,
  });
  // A certificate's key is its linked object: its changes reach the key's cached handles too.
  const certificates = createCertificateService({
    vaultStore: vaultData,
    backupCodec,
    clock: vaultClock,
    provider: keyProvider,
    onChange: keyChanged,
  });

  const vaultRestore = createVaultRestore({ root: barrier, forgetVaults: () => vaults.clearCache() });
  const backupJobs = createBackupJobs(clock);
  if (hsmKeys) hsmKeys.token.onEvent = (event) => http.log.warn(event, 'hsm');

  const periodicJobs = createPeriodicJobs({
    vaults,
    sweeps: [
      (vault) => secrets.purgeExpired(vault),
      (vault) => keys.purgeExpired(vault),
      (vault) => certificates.purgeExpired(vault),
      (vault) => keys.reapHsmKeys(vault),
      keyRotationSweep({
        keys,
        clock: vaultClock,
        // Until the event mechanism lands, a near-expiry notice is a structured log line.
        notify: (notice) => http.log.warn({ event: 'KeyNearExpiry', ...notice }, 'key near expiry'),
      }),
      certificateRenewalSweep({
        certificates,
        clock: vaultClock,
        notify: (notice) =>
          http.log.warn({ event: 'CertificateNearExpiry', ...notice }, 'certificate near expiry'),
        onError: (error, certificate) =>
          http.log.error(
            // Only our own errors' messages are known to be free of secrets; others give their type.
            {
              certificate,
              err: {
                type: (error as Error).name,
                message: error instanceof CofferError ? error.message : undefined,
              },
            },
            'certificate renewal failed',
          ),
      }),
    ],
    installationSweeps: [() => vaults.purgeExpired(), () => vaultRestore.eraseAbandoned()],
    inVaultTime,
    intervalMs: config.purgeIntervalSeconds * 1000,
    onError: (error) => {
      if (error instanceof PurgeFailed) {
        for (const failure of error.failures) {
          const path = `vaults/${error.vault}/deleted${error.collection}/${failure.name}`;
          faults.record({ kind: 'purgeFailure', path, detail: failure.reason });
        }
        return;
      }
      http.log.error({ err: { type: (error as Error).name } }, 'background job failed');
    },
  });
  // Damage is never silent: each fault is logged with its path (never content) and counted.
  faults.onFault((fault) =>
    http.log.error({ fault: fault.kind, path: fault.path, detail: fault.detail }, 'fault'),
  );
  const seal = new SealManager(
    storage,
    barrier,
    {
      afterUnseal: async () => {
        // First of all: a store rolled back to an older copy is refused before anything is served.
        commitRecord.verify(await barrier.commitRecord());
        await runtime.load();
        const signer = await auditKeys.load(new Date(clock.nowMs()));
        await audit?.unsealed(signer);
        periodicJobs.start();
      },
      beforeSeal: () => {
        commitRecord.stop();
        // The last checkpoint before the key is put away (a no-op once the audit log is closed).
        void audit?.broker.setSigner(undefined, 'seal').catch(() => undefined);
        auditKeys.unload();
        periodicJobs.stop();
        runtime.unload();
        identity.clearCaches();
        // Parsed private keys go with the barrier key: nothing usable stays in memory sealed.
        keyProvider.forgetKeyHandles();
        vaults.clearCache();
        roles.clearCache();
        arm.clearCaches();
      },
    },
    clock,
  );

  // The pkcs11 seal: the token unwraps the unseal key at start, so the server unseals itself.
  const hsmSeal =
    config.seal.type === 'pkcs11'
      ? await Pkcs11Seal.open({ ...config.seal.token, keyLabel: config.seal.keyLabel })
      : undefined;
  const autoUnseal =
    hsmSeal &&
    createAutoUnseal({ seal, storage, hsmSeal, log: (event) => http.log.warn(event, 'auto-unseal') });

  /** Inside the freshly initialised barrier: the tenant, installation keys and first administrator. */
  const bootstrap = async (): Promise<IssuedCredentials> => {
    await runtime.create(clock);
    await runtime.load();
    const admin = await principals.create({ name: ADMIN_PRINCIPAL_NAME, administrator: true });
    // The administrator flag covers managing Coffer; reading vault data takes a role, as in Azure.
    await roles.ensureAssignment(KEY_VAULT_ADMINISTRATOR_ROLE_ID, admin.objectId, '/');
    runtime.unload();
    return admin;
  };

  const guard = createAbuseGuard(clock);
  const vaultThrottle = createVaultThrottle(clock);
  const metrics = config.metrics.enabled
    ? createServerMetrics({
        sealed: () => barrier.isSealed,
        storageBytes: () => storage.diskBytes(),
        faults: () => faults.snapshot(),
        audit: () => audit?.broker.stats(),
        throttle: () => ({
          usagePercent: vaultThrottle.usagePercent(),
          throttled: vaultThrottle.throttledCounts(),
        }),
        certificateExpiries: async () => soonestCertificateExpiries(await vaults.list(), certificates),
        nowMs: () => clock.nowMs(),
      })
    : undefined;
  // The seam for the events work (issue 13, point 5): publishEvent(alert.vault ?? '',
  // ALERT_EVENT_TYPE, alert.rule, alert). Until then an alert is its warn line and its count.
  const raiseAlert = (_alert: Alert): void => undefined;
  if (audit && config.alerts.enabled)
    startAlerts({
      broker: audit.broker,
      config: config.alerts,
      log: auditLog,
      raise: raiseAlert,
      counted: (rule) => metrics?.alertRaised(rule),
    });
  else if (config.alerts.enabled)
    http.log.warn(
      {},
      'alerts are off: they read the audit log, which is turned off (audit.enabled is false)',
    );
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

  // Before any route, so the hooks see every request (and run before the routes' own).
  const auditHooks = audit
    ? registerAuditHooks(http, {
        broker: audit.broker,
        context: {
          objectName: (name) => (config.audit.hmacObjectNames ? (auditKeys.hmac(name) ?? '(sealed)') : name),
          vaultUrl,
          newCorrelationId: randomUUID,
        },
        vaultOfHost: (hostname) => vaultOfHost(hostname, config.baseDomain, bareHosts, config.defaultVault),
        clientAddress: (peer, forwardedFor) => pipeline.clientAddress(peer, forwardedFor),
        tenantId: () => (barrier.isSealed ? undefined : runtime.tenantId()),
      })
    : decorateAuditFields(http);
  if (metrics) registerRequestMetrics(http, metrics.requests);

  registerHealthRoutes(http, async () => {
    if (barrier.isSealed || (await storage.get(SEAL_CONFIG_PATH)) === undefined) return 'unavailable';
    return (await storage.writable()) ? 'ready' : 'storage-full';
  });
  if (metrics)
    registerMetricsRoute(http, {
      pipeline,
      scrapeTokenSha256: config.metrics.scrapeTokenSha256,
      render: metrics.render,
      contentType: metrics.contentType,
    });
  registerIdentityRoutes(http, {
    pipeline,
    tokens,
    guard,
    signingKey: runtime.signingKey,
    tenantId: runtime.tenantId,
    authorityHost,
  });
  adminPlane(http, pipeline, [
    ...operatorRoutes({
      seal,
      barrier,
      check: createStoreCheck({
        verifyFile: () => storage.verifyFile(),
        listKeys: (after, limit) => storage.list('', { after, limit }),
        readRaw: (key) => storage.readUncached(key),
        checkRecord: (path, stored) => barrier.checkRecord(path, stored),
        isPlainRow: (key) => PLAIN_ROWS.has(key),
        isUnsealed: () => !barrier.isSealed,
        clock,
      }),
      allowInit: !config.dev,
      initialize: async (shares, threshold) => {
        const result = await seal.initialize(
          {
            type: autoUnseal ? 'pkcs11' : 'shamir',
            shares,
            threshold,
            protectUnsealKey: autoUnseal?.protect,
          },
          bootstrap,
        );
        // With the pkcs11 seal the shares are recovery shares: the token unseals the server now.
        await autoUnseal?.attempt();
        return { shares: result.shares, admin: result.bootstrapped };
      },
    }),
    ...installationBackupRoutes({ storage, barrier, clock, cofferVersion: cofferVersion() }),
    ...vaultAdminRoutes(vaults, vaultUrl),
    ...devRoutes({
      dev: config.dev,
      timeShift,
      vaults,
      runVaultSweeps: (vault) => periodicJobs.runForVault(vault),
      runInstallationSweeps: () => vaults.purgeExpired(),
    }),
    ...identity.adminRoutes(),
    ...roleAdminRoutes(roles),
    ...auditRoutes({
      query: (query) => (audit ? audit.index.query(query) : Promise.reject(new BadParameter(AUDIT_OFF))),
      hmac: (name) => auditKeys.hmac(name),
      hmacNames: config.audit.hmacObjectNames,
      publicKey: () => {
        const signer = audit ? auditKeys.signer : undefined;
        return signer && { keyId: signer.keyId, algorithm: 'Ed25519', publicKeyPem: signer.publicKeyPem };
      },
      stats: () => {
        if (!audit) throw new BadParameter(AUDIT_OFF);
        return audit.broker.stats();
      },
    }),
  ]);
  armPlane(http, pipeline, arm.routes(), { subscriptionId: arm.subscriptionId });
  dataPlane(
    http,
    pipeline,
    [
      ...secretRoutes(secrets),
      ...keyRoutes(keys),
      ...certificateRoutes(certificates),
      ...roleApiRoutes(roles),
      ...settingsRoutes(),
      ...hsmBackupRoutes({
        jobs: backupJobs,
        backupDir: config.backupDir,
        backupKey: runtime.backupKey,
        write: (vault, file) =>
          writeVaultBackup({ storage, barrier, backupKey: runtime.backupKey, clock }, vault, file),
        restore: vaultRestore,
      }),
    ],
    { serviceVersion: cofferVersion(), region: config.region },
    {
      inVaultTime,
      admit: async (request) => {
        if (!vaultThrottle.enabled(request.vault)) return;
        const cost = await requestCost(
          {
            method: request.method,
            route: request.routeOptions.url ?? '',
            params: request.params as Record<string, string>,
            body: request.body,
          },
          async (name, version) => {
            const key = await keys.get(request.vault, name, version).catch(() => undefined);
            return (
              key && {
                hsm: isHsmType(key.record.kty),
                rsaBits: key.record.kty.startsWith('RSA') ? key.record.keySize : undefined,
              }
            );
          },
        );
        vaultThrottle.admit(request.vault, cost);
      },
    },
  );

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
    /** Undefined when metrics are turned off (metrics.enabled false). */
    metrics,
    /** Finishes requests in flight (within the shutdown deadline), then closes the store. */
    async close(): Promise<void> {
      autoUnseal?.stop();
      await closeGracefully();
      // After the last request, before the seal: the shutdown checkpoint needs the key.
      await audit?.close();
      seal.seal();
      await storage.close();
      // After the server: a request still in flight may need an RSA worker thread or the token.
      await keyProvider.close();
      hsmSeal?.close();
    },
  };
}

export type CofferApp = Awaited<ReturnType<typeof buildApp>> & { http: FastifyInstance };

const AUDIT_OFF = 'The audit log is turned off on this server (audit.enabled is false).';

/** The vault a host name addresses, by name only (pipeline.resolveVault looks it up). */
function vaultOfHost(
  hostname: string,
  baseDomain: string,
  bareHosts: ReadonlySet<string>,
  defaultVault: string | undefined,
): string | undefined {
  const host = hostname.toLowerCase().replace(/:\d+$/, '');
  const suffix = `.${baseDomain}`;
  if (host.endsWith(suffix)) {
    const name = host.slice(0, -suffix.length);
    return /^[a-z0-9-]{3,24}$/.test(name) ? name : undefined;
  }
  return bareHosts.has(host) ? defaultVault : undefined;
}

/** Removes a deleted vault's objects in bounded transactions, so a large vault does not hold the write lock for long. */
async function eraseVaultData(store: ReturnType<Barrier['view']>): Promise<void> {
  for (;;) {
    const keys = await store.list('', { limit: 500 });
    if (keys.length === 0) return;
    await store.transaction(async (tx) => {
      for (const key of keys) await tx.delete(key);
    });
  }
}
