import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createBackupCodec } from './backup/backup-codec.js';
import { BadParameter, CofferError, Conflict } from './errors/index.js';
import { Barrier } from './barrier/barrier.js';
import type { CofferConfig } from './config/types.js';
import { createAbuseGuard } from './core/abuse-guard.js';
import { keepCachesCoherent, shareThrottles } from './core/cluster-wiring.js';
import { clusterRoutes } from './core/cluster-routes.js';
import { createPipeline } from './core/pipeline.js';
import { createPeriodicJobs } from './core/periodic-jobs.js';
import { operatorRoutes } from './core/routes.js';
import { Runtime } from './core/runtime.js';
import { SealManager } from './core/seal-manager.js';
import { adminPlane } from './http/admin-plane.js';
import { dataPlane } from './http/data-plane.js';
import { type Readiness, registerHealthRoutes } from './http/health-routes.js';
import { createHttpServer } from './http/server.js';
import { createIdentity } from './identity/identity.js';
import { registerIdentityRoutes } from './identity/routes.js';
import { roleApiRoutes } from './policy/role-api.js';
import { roleAdminRoutes } from './policy/role-routes.js';
import { createRoleService, KEY_VAULT_ADMINISTRATOR_ROLE_ID } from './policy/role-service.js';
import { createRoleStore } from './policy/role-store.js';
import type { IssuedCredentials } from './identity/types.js';
import { type Clock, systemClock } from './lib/clock.js';
import { SoftwareKeyProvider } from './crypto/keys/software-provider.js';
import { certificateRoutes } from './certificates/routes.js';
import { certificateRenewalSweep } from './certificates/renewal-job.js';
import { createCertificateService } from './certificates/service.js';
import { keyRoutes } from './keys/routes.js';
import { keyRotationSweep } from './keys/rotation-job.js';
import { createKeyService } from './keys/service.js';
import { secretRoutes } from './secrets/routes.js';
import { createSecretService } from './secrets/service.js';
import { keyVaultWrapper } from './seal/keyvault.js';
import type { ClusteredStorage } from './storage/cluster.js';
import { PostgresStorage } from './storage/postgres/pg-storage.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { vaultAdminRoutes } from './vaults/routes.js';
import { createVaultService } from './vaults/service.js';
import type { VaultRecord } from './vaults/types.js';

export const ADMIN_PRINCIPAL_NAME = 'administrator';
/** How long an init in progress keeps other nodes from starting another. */
const INIT_CLAIM_MS = 2 * 60_000;

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
  const http = createHttpServer({ ...tls, logLevel: config.logLevel });
  const storage = await openStorage(config, http);
  const cluster = storage.cluster;
  const barrier = new Barrier(storage, clock);
  const systemStore = barrier.view('sys/');
  const runtime = new Runtime(barrier.view('sys/identity/'));
  const vaultData = (vault: VaultRecord) => barrier.view(`data/${vault.id}/`);

  let publicPort = config.port;
  const portSuffix = () => (publicPort === 443 ? '' : `:${publicPort}`);
  const authorityHost = () => `https://${config.publicHost}${portSuffix()}`;
  const vaultUrl = (name: string) => `https://${name}.${config.baseDomain}${portSuffix()}`;

  const identity = createIdentity({
    store: barrier.view('sys/identity/'),
    clock,
    signingKey: runtime.signingKey,
    tenantId: runtime.tenantId,
    issuerBase: authorityHost,
    audiences: [`https://${config.baseDomain}`, 'https://vault.azure.net'],
    claim: (id, untilMs, nowMs) => cluster.claim(id, untilMs, nowMs),
  });
  const { principals, tokens } = identity;
  const vaults = createVaultService({
    system: systemStore,
    clock,
    eraseData: (vault) => eraseVaultData(vaultData(vault)),
    // Until the audit broker lands, audited management actions are structured log lines.
    audit: (event) => http.log.info(event, 'audit'),
  });
  const roles = createRoleService({
    store: createRoleStore(systemStore),
    clock,
    resolvePrincipal: async (id) => (await principals.find(id)).objectId,
    vaultExists: async (name) => (await vaults.find(name)) !== undefined,
  });
  const backupCodec = createBackupCodec(runtime.backupKey);
  const secrets = createSecretService({ vaultStore: vaultData, backupCodec, clock });
  const keyProvider = new SoftwareKeyProvider({ rsaWorkers: config.cryptoWorkers });
  const keys = createKeyService({ vaultStore: vaultData, backupCodec, clock, provider: keyProvider });
  const certificates = createCertificateService({
    vaultStore: vaultData,
    backupCodec,
    clock,
    provider: keyProvider,
  });

  const periodicJobs = createPeriodicJobs({
    vaults,
    sweeps: [
      (vault) => secrets.purgeExpired(vault),
      (vault) => keys.purgeExpired(vault),
      (vault) => certificates.purgeExpired(vault),
      keyRotationSweep({
        keys,
        clock,
        // Until the event mechanism lands, a near-expiry notice is a structured log line.
        notify: (notice) => http.log.warn({ event: 'KeyNearExpiry', ...notice }, 'key near expiry'),
      }),
      certificateRenewalSweep({
        certificates,
        clock,
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
    intervalMs: config.purgeIntervalSeconds * 1000,
    onError: (error) => http.log.error({ err: { type: (error as Error).name } }, 'background job failed'),
    // With several nodes (or worker processes) only the leader sweeps.
    leadership: cluster.leadership,
  });
  const wrapper = config.seal.type === 'keyvault' ? keyVaultWrapper(config.seal) : undefined;
  const seal = new SealManager(
    storage,
    barrier,
    {
      afterUnseal: async () => {
        await runtime.load();
        periodicJobs.start();
      },
      beforeSeal: () => {
        periodicJobs.stop();
        runtime.unload();
        identity.clearCaches();
        vaults.clearCache();
        roles.clearCache();
      },
    },
    clock,
    wrapper,
  );
  keepCachesCoherent(cluster, {
    vaults,
    roles,
    identity: { clearCache: () => identity.clearDirectoryCaches() },
    core: {
      clearCache: () => {
        seal.forgetConfig();
        barrier.refreshKeyring().catch(() => {});
      },
    },
  });

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

  const guard = createAbuseGuard(clock, shareThrottles(cluster));
  const pipeline = createPipeline({
    barrier,
    tokens,
    vaults,
    roles,
    guard,
    tenantId: runtime.tenantId,
    settings: {
      baseDomain: config.baseDomain,
      bareHosts: new Set([config.publicHost, 'localhost', '127.0.0.1', '[::1]', '::1']),
      defaultVault: config.defaultVault,
      authorityHost,
      trustedProxies: config.trustedProxies,
    },
  });

  registerHealthRoutes(http, async (): Promise<Readiness> => {
    if (barrier.isSealed || (await storage.get('core/seal-config')) === undefined) return 'unavailable';
    const mode = cluster.status().mode;
    return mode === 'read-write' ? 'ready' : mode;
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
      allowInit: !config.dev,
      initialize: async (shares, threshold) => {
        // Nodes share one store: two operators running init on two nodes at once would each write
        // a root key. The first claims the installation for a while (a crash frees it in time).
        const now = clock.nowMs();
        if (
          !(await cluster.claim('operator:init', now + INIT_CLAIM_MS, now)) &&
          !(await seal.status()).initialized
        )
          throw new Conflict(
            'Another node is initialising this installation. Wait, then check coffer operator status.',
          );
        if (wrapper) {
          // Auto-unseal: no shares to hand out, and the node opens itself at once.
          const result = await seal.initialize({ type: wrapper.type, shares: 0, threshold: 0 }, bootstrap);
          await seal.autoUnseal();
          return { shares: result.shares, admin: result.bootstrapped };
        }
        if (shares === undefined || threshold === undefined)
          throw new BadParameter('Send {"shares": N, "threshold": T}: the Shamir seal needs both.');
        const result = await seal.initialize({ type: 'shamir', shares, threshold }, bootstrap);
        return { shares: result.shares, admin: result.bootstrapped };
      },
    }),
    ...clusterRoutes({ cluster, sealed: () => barrier.isSealed, lastSweep: periodicJobs.lastSweep }),
    ...vaultAdminRoutes(vaults, vaultUrl),
    ...identity.adminRoutes(),
    ...roleAdminRoutes(roles),
  ]);
  dataPlane(http, pipeline, [
    ...secretRoutes(secrets),
    ...keyRoutes(keys),
    ...certificateRoutes(certificates),
    ...roleApiRoutes(roles),
  ]);

  return {
    http,
    seal,
    bootstrap,
    principals,
    roles,
    vaults,
    keys,
    certificates,
    periodicJobs,
    storage,
    cluster,
    vaultUrl,
    authorityHost,
    setPublicPort: (port: number) => {
      publicPort = port;
    },
    async close(): Promise<void> {
      await http.close();
      seal.seal();
      await storage.close();
      // After the server: a request still in flight may need an RSA worker thread.
      await keyProvider.close();
    },
  };
}

export type CofferApp = Awaited<ReturnType<typeof buildApp>> & { http: FastifyInstance };

/**
 * SQLite in the data dir (one process), or PostgreSQL for many nodes. A PostgreSQL that is down
 * is not fatal: the node starts, answers 503 and /readyz 503, and connects when it can.
 */
async function openStorage(config: CofferConfig, http: FastifyInstance): Promise<ClusteredStorage> {
  const cacheBytes = config.storage.cacheMiB * 1024 * 1024;
  if (config.storage.type === 'sqlite') return new SqliteStorage(config.storage.file, { cacheBytes });
  const storage = new PostgresStorage({
    ...config.storage,
    cacheBytes,
    log: (level, message) => http.log[level]({ storage: 'postgres' }, message),
  });
  try {
    await storage.start();
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
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
