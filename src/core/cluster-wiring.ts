import { COMMIT_RECORD_PATH } from '../barrier/barrier.js';
import type { Cluster } from '../storage/cluster.js';
import type { FailureThrottle } from './throttle.js';
import type { ThrottleShare } from './vault-throttle.js';

/** Caches above the barrier that another member's commits can make stale, by storage prefix. */
export interface CoherentCaches {
  /** `sys/vaults/`: vault records (permission model, access policies, network rules). */
  vaults: { clearCache(): void };
  /** `sys/rbac/`: role assignments and custom roles. */
  roles: { clearCache(): void };
  /** `sys/identity/`: principals, users, groups and their credentials (revocation). */
  identity: { clearCache(): void };
  /** `core/`: the seal configuration (seal-migrate) and the keyring (a rotation). */
  core: { clearCache(): void };
  /** `sys/arm/`: Resource Manager's installation key for operation ids. */
  arm: { clearCache(): void };
}

const ROUTES: ReadonlyArray<[prefix: string, cache: keyof CoherentCaches]> = [
  ['sys/vaults/', 'vaults'],
  // A vault soft-deleted, recovered or purged elsewhere: the live record moved too.
  ['sys/deletedvaults/', 'vaults'],
  ['sys/arm/', 'arm'],
  ['sys/rbac/', 'roles'],
  ['sys/identity/', 'identity'],
  ['core/', 'core'],
];

/**
 * Drops what this member cached when another member commits a key it was derived from, and
 * everything when the cluster lost track. Data under `data/` is cached only in the storage's
 * own row cache, which the backend keeps exact itself.
 */
export function keepCachesCoherent(cluster: Pick<Cluster, 'onEvent'>, caches: CoherentCaches): () => void {
  return cluster.onEvent((event) => {
    if (event.type === 'message') return;
    if (event.type === 'reset') {
      for (const cache of Object.values(caches)) cache.clearCache();
      return;
    }
    const stale = new Set<keyof CoherentCaches>();
    for (const key of event.keys) {
      // Bumped by every write of a lone SQLite store: it changes nothing cached above the barrier.
      if (key === COMMIT_RECORD_PATH) continue;
      for (const [prefix, cache] of ROUTES) if (key.startsWith(prefix)) stale.add(cache);
    }
    for (const cache of stale) caches[cache].clearCache();
  });
}

const THROTTLE_TOPIC = 'throttle';

/**
 * Failure counters that count what every member sees: a failure recorded here is published,
 * and one published elsewhere is recorded here, so a caller guessing across nodes is throttled
 * after about as many tries as on one (plus what arrives within the feed's bound). Best effort:
 * while the store is unreachable each member counts alone.
 */
export function shareThrottles(cluster: Pick<Cluster, 'onEvent' | 'publish'>) {
  const byName = new Map<string, FailureThrottle>();
  cluster.onEvent((event) => {
    if (event.type !== 'message' || event.topic !== THROTTLE_TOPIC) return;
    const separator = event.body.indexOf('\n');
    if (separator < 0) return;
    byName.get(event.body.slice(0, separator))?.recordFailure(event.body.slice(separator + 1));
  });
  return (name: string, throttle: FailureThrottle): FailureThrottle => {
    byName.set(name, throttle);
    return {
      // Local attempts keep their reserved slots (throttle.ts); a failure is also told to the others.
      reserve: async (key) => {
        const slot = await throttle.reserve(key);
        let settled = false;
        return {
          settle: (failed) => {
            if (settled) return;
            settled = true;
            slot.settle(failed);
            if (failed) cluster.publish(THROTTLE_TOPIC, `${name}\n${key}`);
          },
        };
      },
      recordFailure: (key) => throttle.recordFailure(key),
    };
  };
}

const VAULT_THROTTLE_TOPIC = 'vault-throttle';

/**
 * The per-vault throttles' reports (vault-throttle.ts) over the cluster's feed: what one member
 * admitted reaches the others within the feed's bound. A lone process publishes nothing.
 */
export function shareVaultThrottle(cluster: Pick<Cluster, 'onEvent' | 'publish'>): ThrottleShare {
  return {
    publish: (body) => cluster.publish(VAULT_THROTTLE_TOPIC, body),
    onMessage: (handler) => {
      cluster.onEvent((event) => {
        if (event.type === 'message' && event.topic === VAULT_THROTTLE_TOPIC) handler(event.body);
      });
    },
  };
}

/**
 * Work that must run on one member at a time and see what every member queues (event delivery):
 * started while this member leads, stopped when it no longer does, and restarted (which reloads
 * its queue from the store) when another member commits under `prefix`. A lone process always
 * leads. Returns the function that stops following.
 */
export function runWhileLeading(
  cluster: Pick<Cluster, 'onEvent' | 'leadership'>,
  prefix: string,
  work: { start(): Promise<void>; stop(): Promise<void> },
  onError: (error: unknown) => void,
): () => void {
  const run = (step: () => Promise<void>) => void step().catch(onError);
  const stopLeading = cluster.leadership.onChange((leads) => run(leads ? work.start : work.stop));
  const stopListening = cluster.onEvent((event) => {
    if (!cluster.leadership.isLeader) return;
    if (
      event.type === 'reset' ||
      (event.type === 'changed' && event.keys.some((key) => key.startsWith(prefix)))
    )
      run(work.start);
  });
  if (cluster.leadership.isLeader) run(work.start);
  return () => {
    stopLeading();
    stopListening();
    run(work.stop);
  };
}
