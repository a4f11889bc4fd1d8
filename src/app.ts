import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createBackupCodec } from './backup/backup-codec.js';
import { Barrier } from './barrier/barrier.js';
import type { CofferConfig } from './config/types.js';
import { createPipeline } from './core/pipeline.js';
import { createPurgeScheduler } from './core/purge-scheduler.js';
import { operatorRoutes } from './core/routes.js';
import { Runtime } from './core/runtime.js';
import { SealManager } from './core/seal-manager.js';
import { adminPlane } from './http/admin-plane.js';
import { dataPlane } from './http/data-plane.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { createHttpServer } from './http/server.js';
import { createPrincipalService } from './identity/principal-service.js';
import { createPrincipalStore } from './identity/principal-store.js';
import { principalAdminRoutes, registerIdentityRoutes } from './identity/routes.js';
import { createTokenService } from './identity/token-service.js';
import type { IssuedCredentials } from './identity/types.js';
import { type Clock, systemClock } from './lib/clock.js';
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
  const storage = new SqliteStorage(config.storage.file);
  const barrier = new Barrier(storage, clock);
  const systemStore = barrier.view('sys/');
  const runtime = new Runtime(barrier.view('sys/identity/'));
  const vaultData = (vault: VaultRecord) => barrier.view(`data/${vault.id}/`);

  let publicPort = config.port;
  const portSuffix = () => (publicPort === 443 ? '' : `:${publicPort}`);
  const authorityHost = () => `https://${config.publicHost}${portSuffix()}`;
  const vaultUrl = (name: string) => `https://${name}.${config.baseDomain}${portSuffix()}`;

  const principals = createPrincipalService({
    store: createPrincipalStore(barrier.view('sys/identity/')),
    clock,
    tenantId: runtime.tenantId,
  });
  const tokens = createTokenService({
    principals,
    clock,
    signingKey: runtime.signingKey,
    tenantId: runtime.tenantId,
    issuerBase: authorityHost,
    audiences: [`https://${config.baseDomain}`, 'https://vault.azure.net'],
  });
  const vaults = createVaultService({
    system: systemStore,
    clock,
    eraseData: (vault) => eraseVaultData(vaultData(vault)),
  });
  const secrets = createSecretService({
    vaultStore: vaultData,
    backupCodec: createBackupCodec(runtime.backupKey),
    clock,
  });

  const http = createHttpServer({ ...tls, logLevel: config.logLevel });
  const purgeScheduler = createPurgeScheduler({
    vaults,
    secrets,
    intervalMs: config.purgeIntervalSeconds * 1000,
    onError: (error) => http.log.error({ err: { type: (error as Error).name } }, 'purge cycle failed'),
  });
  const seal = new SealManager(
    storage,
    barrier,
    {
      afterUnseal: async () => {
        await runtime.load();
        purgeScheduler.start();
      },
      beforeSeal: () => {
        purgeScheduler.stop();
        runtime.unload();
        principals.clearCache();
        tokens.clearCache();
        vaults.clearCache();
      },
    },
    clock,
  );

  /** Inside the freshly initialised barrier: the tenant, installation keys and first administrator. */
  const bootstrap = async (): Promise<IssuedCredentials> => {
    await runtime.create(clock);
    await runtime.load();
    const admin = await principals.create({ name: ADMIN_PRINCIPAL_NAME, administrator: true });
    runtime.unload();
    return admin;
  };

  const pipeline = createPipeline({
    barrier,
    tokens,
    vaults,
    tenantId: runtime.tenantId,
    settings: {
      baseDomain: config.baseDomain,
      bareHosts: new Set([config.publicHost, 'localhost', '127.0.0.1', '[::1]', '::1']),
      defaultVault: config.defaultVault,
      authorityHost,
    },
  });

  registerHealthRoutes(
    http,
    async () => !barrier.isSealed && (await storage.get('core/seal-config')) !== undefined,
  );
  registerIdentityRoutes(http, {
    pipeline,
    tokens,
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
    ...principalAdminRoutes(principals),
  ]);
  dataPlane(http, pipeline, secretRoutes(secrets));

  return {
    http,
    seal,
    bootstrap,
    principals,
    vaults,
    storage,
    vaultUrl,
    authorityHost,
    setPublicPort: (port: number) => {
      publicPort = port;
    },
    async close(): Promise<void> {
      await http.close();
      seal.seal();
      await storage.close();
    },
  };
}

export type CofferApp = Awaited<ReturnType<typeof buildApp>> & { http: FastifyInstance };

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
