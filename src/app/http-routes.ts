import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Arm } from '../arm/arm.js';
import type { AuditKeys } from '../audit/audit-keys.js';
import { auditRoutes } from '../audit/routes.js';
import type { AuditLogHandle } from '../audit/setup.js';
import type { BackupJobs } from '../backup/backup-jobs.js';
import { hsmBackupRoutes } from '../backup/hsm-routes.js';
import { installationBackupRoutes } from '../backup/routes.js';
import { writeVaultBackup } from '../backup/vault-backup.js';
import type { VaultRestore } from '../backup/vault-restore.js';
import { type Barrier, KEYRING_PATH } from '../barrier/barrier.js';
import type { SecureStore } from '../barrier/secure-store.js';
import type { CertificateService } from '../certificates/service.js';
import { certificateRoutes } from '../certificates/routes.js';
import type { CofferConfig } from '../config/types.js';
import type { AbuseGuard } from '../core/abuse-guard.js';
import { clusterRoutes } from '../core/cluster-routes.js';
import { devRoutes } from '../core/dev-routes.js';
import type { Pipeline } from '../core/pipeline.js';
import { isHsmType, requestCost } from '../core/request-cost.js';
import { operatorRoutes } from '../core/routes.js';
import type { Runtime } from '../core/runtime.js';
import type { SealManager } from '../core/seal-manager.js';
import type { SealRelay } from '../core/seal-relay.js';
import { createStoreCheck } from '../core/store-check.js';
import type { TimeShift } from '../core/time-shift.js';
import type { VaultThrottle } from '../core/vault-throttle.js';
import { BadParameter } from '../errors/index.js';
import { eventRoutes } from '../events/routes.js';
import type { Events } from '../events/events.js';
import { adminPlane } from '../http/admin-plane.js';
import { armPlane } from '../http/arm-plane.js';
import { decorateAuditFields, registerAuditHooks } from '../http/audit-hooks.js';
import { dataPlane } from '../http/data-plane.js';
import { acceptForms } from '../http/form-body.js';
import { type Readiness, registerHealthRoutes } from '../http/health-routes.js';
import { registerMetricsRoute, registerRequestMetrics } from '../http/metrics-routes.js';
import type { Identity } from '../identity/identity.js';
import { registerIdentityRoutes } from '../identity/routes.js';
import type { IssuedCredentials } from '../identity/types.js';
import type { KeyService } from '../keys/service.js';
import { keyRoutes } from '../keys/routes.js';
import type { Clock } from '../lib/clock.js';
import { cofferVersion } from '../lib/version.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { roleApiRoutes } from '../policy/role-api.js';
import { roleAdminRoutes } from '../policy/role-routes.js';
import type { RoleService } from '../policy/role-service.js';
import {
  INIT_PENDING_PATH,
  LEGACY_PKCS11_UNSEAL_KEY_PATH,
  SEAL_CONFIG_PATH,
  WRAPPED_ROOT_KEY_PATH,
  WRAPPED_UNSEAL_KEY_PATH,
} from '../seal/types.js';
import type { openKeyWrapper } from '../seal/wrappers.js';
import { secretRoutes } from '../secrets/routes.js';
import type { SecretService } from '../secrets/service.js';
import type { PostgresStorage } from '../storage/postgres/pg-storage.js';
import { SPACE_PROBE_KEY, type SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { createWebConsole } from '../ui/ui.js';
import { vaultAdminRoutes } from '../vaults/routes.js';
import type { VaultService } from '../vaults/service.js';
import { settingsRoutes } from '../vaults/settings-routes.js';
import type { VaultRecord } from '../vaults/types.js';
import type { createBackgroundJobs } from './background-jobs.js';

/** Rows that are not barrier records: read before unsealing, or (the keyring) under the root key. */
const PLAIN_ROWS = new Set([
  SEAL_CONFIG_PATH,
  WRAPPED_ROOT_KEY_PATH,
  INIT_PENDING_PATH,
  KEYRING_PATH,
  SPACE_PROBE_KEY,
  // The unseal key wrapped by an auto-unseal seal's key: only that key opens it.
  WRAPPED_UNSEAL_KEY_PATH,
  LEGACY_PKCS11_UNSEAL_KEY_PATH,
]);

/** What app.ts built that the routes serve: services, the pipeline, the seal, the settings. */
export interface RouteParts {
  arm: Arm;
  audit: AuditLogHandle | undefined;
  auditKeys: AuditKeys;
  authorityHost: () => string;
  backupJobs: BackupJobs;
  bareHosts: Set<string>;
  barrier: Barrier;
  bootstrap: () => Promise<IssuedCredentials>;
  certificates: CertificateService;
  clock: Clock;
  config: CofferConfig;
  events: Events;
  guard: AbuseGuard;
  identity: Identity;
  inVaultTime: <T>(vault: VaultRecord, work: () => Promise<T>) => Promise<T>;
  keys: KeyService;
  metrics: ServerMetrics | undefined;
  periodicJobs: ReturnType<typeof createBackgroundJobs>;
  pipeline: Pipeline;
  roles: RoleService;
  runtime: Runtime;
  seal: SealManager;
  sealRelay: SealRelay | undefined;
  secrets: SecretService;
  sessionStore: SecureStore;
  storage: SqliteStorage | PostgresStorage;
  timeShift: TimeShift;
  vaultResource: () => string;
  vaultRestore: VaultRestore;
  vaultThrottle: VaultThrottle;
  vaultUrl: (name: string) => string;
  vaults: VaultService;
  wrapper: Awaited<ReturnType<typeof openKeyWrapper>>;
}

/**
 * Every route of the server, in the order Fastify must see them: the audit and metrics hooks
 * first (so they see every request), then health, identity, the admin API, ARM, the console and
 * the data plane. Returns the audit hooks (for errors raised before routing) and the console
 * (whose sessions the leader sweeps).
 */
export function registerRoutes(http: FastifyInstance, parts: RouteParts) {
  const {
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
  } = parts;
  // Derived from what it is part of, so the caller cannot hand in a mismatched one.
  const { cluster } = storage;
  const { tokens } = identity;
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

  registerHealthRoutes(http, async (): Promise<Readiness> => {
    if (barrier.isSealed || (await storage.get(SEAL_CONFIG_PATH)) === undefined) return 'unavailable';
    const mode = cluster.status().mode;
    if (mode !== 'read-write') return mode;
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
    users: identity.users,
    codes: identity.codes,
    guard,
    signingKey: runtime.signingKey,
    tenantId: runtime.tenantId,
    authorityHost,
  });
  adminPlane(http, pipeline, [
    ...operatorRoutes({
      seal,
      barrier,
      relay: sealRelay,
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
        if (wrapper) {
          // Auto-unseal: the node opens itself at once; recovery shares only if asked for (pkcs11 needs them).
          const result = await seal.initialize(
            { type: wrapper.type, shares: shares ?? 0, threshold: threshold ?? 0 },
            bootstrap,
          );
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
    ...eventRoutes(events, vaults),
    ...auditRoutes({
      query: (query) => (audit ? audit.index.query(query) : Promise.reject(new BadParameter(AUDIT_OFF))),
      workers: audit?.index.workers && {
        count: audit.index.workers.files.length,
        query: (query, start) => audit.index.queryAll(query, start),
      },
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
  // The console calls the HTTP API above in process, as the signed-in user (src/ui).
  const webConsole = createWebConsole({
    store: sessionStore,
    clock,
    inject: (request) => http.inject(request),
    vaultUrl,
    authorityHost,
    tenantId: runtime.tenantId,
    scope: () => `${vaultResource()}/.default`,
    clientAddress: (request) =>
      pipeline.clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']),
  });
  // The console's pages post HTML forms.
  http.register(async (scope) => {
    acceptForms(scope);
    webConsole.register(scope);
  });
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

  return { auditHooks, webConsole };
}

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
