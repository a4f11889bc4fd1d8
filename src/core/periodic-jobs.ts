import type { Leadership } from '../storage/cluster.js';
import type { VaultRecord } from '../vaults/types.js';

/** One sweep over every vault; returns how many objects it acted on. */
export type VaultSweep = (vault: VaultRecord) => Promise<number>;

/**
 * Background jobs that sweep every vault on a timer while the server is unsealed: purging
 * deleted objects whose retention ended, rotating keys whose policy says so; and the sweeps
 * over the installation as a whole (purging deleted vaults). `runOnce` is what tests call after
 * moving an injected clock. A sweep never overlaps itself, and with several nodes (or processes)
 * only the leader sweeps: the timer runs everywhere, the work only there.
 */
export function createPeriodicJobs(deps: {
  vaults: { list(): Promise<VaultRecord[]> };
  sweeps: VaultSweep[];
  /** Sweeps that are not about one vault (deleted vaults at the end of their retention). */
  installationSweeps?: Array<() => Promise<number>>;
  /** Runs a vault's sweeps in that vault's time (dev-mode time shift). */
  inVaultTime?: <T>(vault: VaultRecord, work: () => Promise<T>) => Promise<T>;
  intervalMs: number;
  onError: (error: unknown) => void;
  /** Asked for while the timer runs; absent, this node always sweeps. */
  leadership?: Leadership;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let lastSweep: { at: string; acted: number } | undefined;
  const inVaultTime = deps.inVaultTime ?? ((_vault, work) => work());

  async function runForVault(vault: VaultRecord): Promise<number> {
    return inVaultTime(vault, async () => {
      let acted = 0;
      for (const sweep of deps.sweeps) acted += await reported(() => sweep(vault));
      return acted;
    });
  }

  /** A sweep's failure is reported and counts as no work done, so the other sweeps still run. */
  async function reported(sweep: () => Promise<number>): Promise<number> {
    try {
      return await sweep();
    } catch (error) {
      deps.onError(error);
      return 0;
    }
  }

  /** One sweep that fails (a damaged record, a full disk) is reported and the others still run. */
  async function runOnce(): Promise<number> {
    let acted = 0;
    for (const vault of await deps.vaults.list()) acted += await runForVault(vault);
    for (const sweep of deps.installationSweeps ?? []) acted += await reported(sweep);
    lastSweep = { at: new Date().toISOString(), acted };
    return acted;
  }

  return {
    runOnce,
    runForVault,
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
