import type { FastifyBaseLogger } from 'fastify';
import type { Arm } from '../arm/arm.js';
import type { AuditKeys } from '../audit/audit-keys.js';
import type { AuditLogHandle } from '../audit/setup.js';
import type { Barrier } from '../barrier/barrier.js';
import { keepCachesCoherent, runWhileLeading } from '../core/cluster-wiring.js';
import type { CommitRecordFile } from '../core/commit-record.js';
import type { Runtime } from '../core/runtime.js';
import { SealManager } from '../core/seal-manager.js';
import type { KeyProvider } from '../crypto/keys/provider.js';
import type { Events } from '../events/events.js';
import type { Identity } from '../identity/identity.js';
import type { Clock } from '../lib/clock.js';
import type { RoleService } from '../policy/role-service.js';
import type { OpenKeyWrapper } from '../seal/wrappers.js';
import type { ClusteredStorage } from '../storage/cluster.js';
import type { VaultService } from '../vaults/service.js';

/** What is kept in memory above the barrier: dropped on seal, and when another member changes it. */
export interface SealedCaches {
  identity: Pick<Identity, 'clearCaches' | 'clearDirectoryCaches'>;
  keyProvider: Pick<KeyProvider, 'forgetKeyHandles'>;
  vaults: Pick<VaultService, 'clearCache'>;
  roles: Pick<RoleService, 'clearCache'>;
  arm: Pick<Arm, 'clearCaches'>;
}

/**
 * The seal manager, with what opening the barrier starts (after the rollback check: the runtime
 * keys, the audit log's signer, event delivery and the sweeps on the leader) and what sealing
 * stops and forgets (every key and cache above the barrier), and the caches kept coherent with
 * the other members of the installation.
 */
export function createSeal(deps: {
  storage: ClusteredStorage;
  barrier: Barrier;
  clock: Clock;
  commitRecord: CommitRecordFile | undefined;
  runtime: Runtime;
  auditKeys: AuditKeys;
  audit: AuditLogHandle | undefined;
  events: Events;
  periodicJobs: { start(): void; stop(): void };
  caches: SealedCaches;
  wrapper: OpenKeyWrapper | undefined;
  log: FastifyBaseLogger;
}): SealManager {
  const { storage, barrier, clock, commitRecord, runtime, auditKeys, audit, events, periodicJobs } = deps;
  const { identity, keyProvider, vaults, roles, arm } = deps.caches;
  const cluster = storage.cluster;
  let stopDelivering: (() => void) | undefined;
  const seal = new SealManager(
    storage,
    barrier,
    {
      afterUnseal: async () => {
        // First of all: a store rolled back to an older copy is refused before anything is served.
        commitRecord?.verify(await barrier.commitRecord());
        await runtime.load();
        const signer = await auditKeys.load(new Date(clock.nowMs()));
        await audit?.unsealed(signer);
        // Delivery, like the sweeps, runs on the leader only: two members would send each event twice.
        stopDelivering = runWhileLeading(cluster, 'sys/events/', events, (error) =>
          deps.log.error({ err: { type: (error as Error).name } }, 'event delivery failed to start'),
        );
        periodicJobs.start();
      },
      beforeSeal: () => {
        commitRecord?.stop();
        // The last checkpoint before the key is put away (a no-op once the audit log is closed).
        void audit?.broker.setSigner(undefined, 'seal').catch(() => undefined);
        auditKeys.unload();
        periodicJobs.stop();
        stopDelivering?.();
        stopDelivering = undefined;
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
    { wrapper: deps.wrapper, claim: (id, untilMs, nowMs) => cluster.claim(id, untilMs, nowMs) },
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
    arm: { clearCache: () => arm.clearCaches() },
  });
  return seal;
}
