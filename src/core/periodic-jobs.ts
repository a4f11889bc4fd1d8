import type { VaultRecord } from '../vaults/types.js';

/** One sweep over every vault; returns how many objects it acted on. */
export type VaultSweep = (vault: VaultRecord) => Promise<number>;

/**
 * Background jobs that sweep every vault on a timer while the server is unsealed: purging
 * deleted objects whose retention ended, rotating keys whose policy says so. `runOnce` is what
 * tests call after moving an injected clock. A sweep never overlaps itself.
 */
export function createPeriodicJobs(deps: {
  vaults: { list(): Promise<VaultRecord[]> };
  sweeps: VaultSweep[];
  intervalMs: number;
  onError: (error: unknown) => void;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  /** One sweep that fails (a damaged record, a full disk) is reported and the others still run. */
  async function runOnce(): Promise<number> {
    let acted = 0;
    for (const vault of await deps.vaults.list()) {
      for (const sweep of deps.sweeps) {
        try {
          acted += await sweep(vault);
        } catch (error) {
          deps.onError(error);
        }
      }
    }
    return acted;
  }

  return {
    runOnce,
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
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
    },
  };
}
