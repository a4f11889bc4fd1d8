import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AuditKeys } from './audit/audit-keys.js';
import { auditRoutes } from './audit/routes.js';
import { type ServiceEvent, serviceEventRecord } from './audit/service-event.js';
import { type AuditLogHandle, openAuditLog } from './audit/setup.js';
import type { AuditLog } from './audit/types.js';
import { createBackupCodec } from './backup/backup-codec.js';
import { BadParameter, CofferError } from './errors/index.js';
import { Barrier } from './barrier/barrier.js';
import type { CofferConfig } from './config/types.js';
import { createAbuseGuard } from './core/abuse-guard.js';
import { createPipeline } from './core/pipeline.js';
import { createPeriodicJobs } from './core/periodic-jobs.js';
import { operatorRoutes } from './core/routes.js';
import { Runtime } from './core/runtime.js';
import { SealManager } from './core/seal-manager.js';
import { adminPlane } from './http/admin-plane.js';
import { decorateAuditFields, registerAuditHooks } from './http/audit-hooks.js';
import { dataPlane } from './http/data-plane.js';
import { registerHealthRoutes } from './http/health-routes.js';
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
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { vaultAdminRoutes } from './vaults/routes.js';
import { createVaultService } from './vaults/service.js';
import type { VaultRecord } from './vaults/types.js';

export const ADMIN_PRINCIPAL_NAME = 'administrator';

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
  const storage = new SqliteStorage(config.storage.file, {
    cacheBytes: config.storage.cacheMiB * 1024 * 1024,
  });
  const barrier = new Barrier(storage, clock);
  const systemStore = barrier.view('sys/');
  const runtime = new Runtime(barrier.view('sys/identity/'));
  const vaultData = (vault: VaultRecord) => barrier.view(`data/${vault.id}/`);

  let publicPort = config.port;
  const portSuffix = () => (publicPort === 443 ? '' : `:${publicPort}`);
  const authorityHost = () => `https://${config.publicHost}${portSuffix()}`;
  const vaultUrl = (name: string) => `https://${name}.${config.baseDomain}${portSuffix()}`;

  const http = createHttpServer({
    ...tls,
    logLevel: config.logLevel,
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

  const identity = createIdentity({
    store: barrier.view('sys/identity/'),
    clock,
    signingKey: runtime.signingKey,
    tenantId: runtime.tenantId,
    issuerBase: authorityHost,
    audiences: [`https://${config.baseDomain}`, 'https://vault.azure.net'],
  });
  const { principals, tokens } = identity;
  const vaults = createVaultService({
    system: systemStore,
    clock,
    eraseData: (vault) => eraseVaultData(vaultData(vault)),
    // Service events (a permission model switch) become audit records beside their request's.
    audit: recordServiceEvent,
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
  });
  const seal = new SealManager(
    storage,
    barrier,
    {
      afterUnseal: async () => {
        await runtime.load();
        const signer = await auditKeys.load(new Date(clock.nowMs()));
        await audit?.unsealed(signer);
        periodicJobs.start();
      },
      beforeSeal: () => {
        // The last checkpoint before the key is put away (a no-op once the audit log is closed).
        void audit?.broker.setSigner(undefined, 'seal').catch(() => undefined);
        auditKeys.unload();
        periodicJobs.stop();
        runtime.unload();
        identity.clearCaches();
        vaults.clearCache();
        roles.clearCache();
      },
    },
    clock,
  );

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

  registerHealthRoutes(
    http,
    async () => !barrier.isSealed && (await storage.get('core/seal-config')) !== undefined,
  );
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
        const result = await seal.initialize({ type: 'shamir', shares, threshold }, bootstrap);
        return { shares: result.shares, admin: result.bootstrapped };
      },
    }),
    ...vaultAdminRoutes(vaults, vaultUrl),
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
    vaultUrl,
    authorityHost,
    setPublicPort: (port: number) => {
      publicPort = port;
    },
    audit,
    async close(): Promise<void> {
      await http.close();
      // After the last request, before the seal: the shutdown checkpoint needs the key.
      await audit?.close();
      seal.seal();
      await storage.close();
      // After the server: a request still in flight may need an RSA worker thread.
      await keyProvider.close();
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
