import type { SecretService } from '../secrets/service.js';
import type { VaultService } from '../vaults/service.js';

/**
 * Purges soft-deleted objects whose retention has ended, vault by vault. Runs on a timer while
 * unsealed; `runOnce` is what tests call with a moved clock.
 */
export function createPurgeScheduler(deps: {
  vaults: Pick<VaultService, 'list'>;
  secrets: Pick<SecretService, 'purgeExpired'>;
  intervalMs: number;
  onError: (error: unknown) => void;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function runOnce(): Promise<number> {
    let purged = 0;
    for (const vault of await deps.vaults.list()) purged += await deps.secrets.purgeExpired(vault);
    return purged;
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
