import type { Leadership } from '../storage/cluster.js';
import type { VaultRecord } from '../vaults/types.js';

/** One sweep over every vault; returns how many objects it acted on. */
export type VaultSweep = (vault: VaultRecord) => Promise<number>;

/**
 * Background jobs that sweep every vault on a timer while the server is unsealed: purging
 * deleted objects whose retention ended, rotating keys whose policy says so. `runOnce` is what
 * tests call after moving an injected clock. A sweep never overlaps itself, and with several
 * nodes (or processes) only the leader sweeps: the timer runs everywhere, the work only there.
 */
export function createPeriodicJobs(deps: {
  vaults: { list(): Promise<VaultRecord[]> };
  sweeps: VaultSweep[];
  intervalMs: number;
  onError: (error: unknown) => void;
  /** Asked for while the timer runs; absent, this node always sweeps. */
  leadership?: Leadership;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let lastSweep: { at: string; acted: number } | undefined;

  async function runOnce(): Promise<number> {
    let acted = 0;
    for (const vault of await deps.vaults.list()) {
      for (const sweep of deps.sweeps) acted += await sweep(vault);
    }
    lastSweep = { at: new Date().toISOString(), acted };
    return acted;
  }

  return {
    runOnce,
    /** When this node last swept, for `coffer operator nodes`. */
    lastSweep: () => lastSweep,
    start(): void {
      if (timer) return;
      deps.leadership?.request();
      timer = setInterval(() => {
        if (running || deps.leadership?.isLeader === false) return;
        running = runOnce()
          .catch((error) => {
            deps.onError(error);
            return 0;
          })
          .finally(() => {
            running = undefined;
          });
      }, deps.intervalMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
      deps.leadership?.resign();
    },
  };
}
