import type { FastifyBaseLogger } from 'fastify';
import type { createVaultRestore } from '../backup/vault-restore.js';
import { certificateRenewalSweep } from '../certificates/renewal-job.js';
import type { createCertificateService } from '../certificates/service.js';
import { createPeriodicJobs } from '../core/periodic-jobs.js';
import { CofferError } from '../errors/index.js';
import type { createEvents } from '../events/events.js';
import { keyRotationSweep } from '../keys/rotation-job.js';
import type { createKeyService } from '../keys/service.js';
import type { Clock } from '../lib/clock.js';
import { PurgeFailed } from '../objects/purge-expired.js';
import type { createSecretService } from '../secrets/service.js';
import type { Leadership } from '../storage/cluster.js';
import type { FaultCounters } from '../storage/fault-counters.js';
import type { VaultRecord } from '../vaults/types.js';
import type { createVaultService } from '../vaults/service.js';

/** What a lifetime action's notice says of the version it is about. */
interface Notice {
  version: string;
  notBefore?: number;
  expiresOn?: number;
}

/**
 * The background sweeps of one installation (purges past retention, rotation and renewal
 * policies, expiry events), run by the leader only: composition, kept out of app.ts.
 */
export function createBackgroundJobs(deps: {
  vaults: ReturnType<typeof createVaultService>;
  secrets: ReturnType<typeof createSecretService>;
  keys: ReturnType<typeof createKeyService>;
  certificates: ReturnType<typeof createCertificateService>;
  events: ReturnType<typeof createEvents>;
  vaultRestore: ReturnType<typeof createVaultRestore>;
  vaultClock: Clock;
  inVaultTime: <T>(vault: VaultRecord, work: () => Promise<T>) => Promise<T>;
  intervalMs: number;
  faults: FaultCounters;
  log: FastifyBaseLogger;
  leadership: Leadership;
  /** Sweeps of short-lived records (sessions, sign-ins, authorization codes) that ended. */
  expiringSweeps?: Array<() => Promise<number>>;
}) {
  const { vaults, secrets, keys, certificates, events, log } = deps;
  // A due Notify (key) or EmailContacts (certificate) action is the object's NearExpiry event:
  // Coffer sends no mail; the event is what subscribers act on.
  const nearExpiry =
    (type: 'Key' | 'Certificate') =>
    (vault: VaultRecord, name: string, notice: Notice): Promise<unknown> =>
      events.nearExpiryNotice(vault, type, {
        name,
        version: notice.version,
        nbf: notice.notBefore,
        exp: notice.expiresOn,
      });
  return createPeriodicJobs({
    vaults,
    sweeps: [
      (vault) => secrets.purgeExpired(vault),
      (vault) => keys.purgeExpired(vault),
      (vault) => certificates.purgeExpired(vault),
      (vault) => keys.reapHsmKeys(vault),
      keyRotationSweep({
        keys,
        clock: deps.vaultClock,
        notify: async (vault, notice) => void (await nearExpiry('Key')(vault, notice.key, notice)),
      }),
      certificateRenewalSweep({
        certificates,
        clock: deps.vaultClock,
        notify: async (vault, notice) =>
          void (await nearExpiry('Certificate')(vault, notice.certificate, notice)),
        onError: (error, certificate) =>
          log.error(
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
      events.expirySweep([
        { type: 'Secret', list: (vault, after, limit) => secrets.list(vault, after, limit) },
        {
          type: 'Key',
          list: (vault, after, limit) => keys.list(vault, after, limit),
          ownsNearExpiry: async (vault, name) =>
            (await keys.readPolicy(vault, name))?.lifetimeActions.some(
              (action) => action.action.type === 'Notify',
            ) ?? false,
        },
        { type: 'Certificate', list: (vault, after, limit) => certificates.list(vault, after, limit) },
      ]),
    ],
    installationSweeps: [
      () => vaults.purgeExpired(),
      () => deps.vaultRestore.eraseAbandoned(),
      ...(deps.expiringSweeps ?? []),
    ],
    inVaultTime: deps.inVaultTime,
    intervalMs: deps.intervalMs,
    onError: (error) => {
      if (error instanceof PurgeFailed) {
        for (const failure of error.failures) {
          const path = `vaults/${error.vault}/deleted${error.collection}/${failure.name}`;
          deps.faults.record({ kind: 'purgeFailure', path, detail: failure.reason });
        }
        return;
      }
      log.error({ err: { type: (error as Error).name } }, 'background job failed');
    },
    // With several nodes (or worker processes) only the leader sweeps.
    leadership: deps.leadership,
  });
}
