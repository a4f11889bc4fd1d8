import { CofferError } from '../errors/index.js';
import { describeWrapperFailure } from '../seal/keyvault.js';
import type { SealManager } from './seal-manager.js';

const RETRY_MS = 5000;

/**
 * A node whose installation uses an auto-unseal seal opens itself at start-up, and keeps trying
 * every few seconds while the store or the key vault is out of reach, so a restarted node comes
 * back alone. It stops once unsealed (an operator's later `seal` stays sealed until restart), or
 * at once when the installation uses shares (nothing to do).
 */
export function keepAutoUnsealing(
  seal: Pick<SealManager, 'autoUnseal' | 'status'>,
  log: { info(fields: object, message: string): void; warn(fields: object, message: string): void },
) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastProblem: string | undefined;

  async function attempt(): Promise<void> {
    if (stopped) return;
    try {
      const status = await seal.status();
      if (!status.initialized) return schedule();
      if (!(await seal.autoUnseal())) return;
      log.info({ sealType: status.sealType }, 'unsealed with the auto-unseal key');
    } catch (error) {
      const problem = error instanceof CofferError ? error.message : describeWrapperFailure(error);
      // One line per new problem, not one every five seconds.
      if (problem !== lastProblem) log.warn({ problem }, 'auto-unseal failed; retrying every 5 s');
      lastProblem = problem;
      schedule();
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void attempt(), RETRY_MS);
    timer.unref();
  }

  void attempt();
  return {
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
