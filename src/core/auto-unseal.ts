import { CofferError } from '../errors/index.js';
import { describeWrapperFailure } from '../seal/keyvault.js';
import type { SealType } from '../seal/types.js';
import type { SealManager } from './seal-manager.js';

const RETRY_MS = 5000;

type Log = { info(fields: object, message: string): void; warn(fields: object, message: string): void };

/**
 * A node whose `seal` setting names a key held elsewhere (another key vault, a PKCS#11 token)
 * opens itself at start-up, and keeps trying every few seconds while the store or that key is
 * out of reach, so a restarted node comes back alone. It stops once unsealed (an operator who
 * seals it again unseals with recovery shares or a restart, as with HashiCorp Vault), or at
 * once when the installation uses another seal (nothing it can do).
 */
export function createAutoUnseal(seal: Pick<SealManager, 'autoUnseal' | 'status'>, type: SealType, log: Log) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let lastProblem: string | undefined;

  async function attempt(): Promise<void> {
    if (stopped) return;
    try {
      const status = await seal.status();
      if (!status.initialized) return schedule();
      if (!status.sealed) return;
      if (!(await seal.autoUnseal())) {
        log.warn(
          { sealType: status.sealType },
          `auto-unseal impossible: this installation uses the ${status.sealType} seal, not this node's ${type} seal; unseal it with its shares`,
        );
        return;
      }
      log.info({ sealType: status.sealType }, 'unsealed with the auto-unseal key');
    } catch (error) {
      const problem = describe(error);
      // One line per new problem, not one every five seconds.
      if (problem !== lastProblem) log.warn({ problem }, 'auto-unseal failed; retrying every 5 s');
      lastProblem = problem;
      schedule();
    }
  }

  function describe(error: unknown): string {
    if (error instanceof CofferError) return error.message;
    // The token's errors are Coffer's own words (pkcs11/errors.ts); the key vault SDK's may carry request details.
    if (type === 'pkcs11' && error instanceof Error) return error.message;
    return describeWrapperFailure(error);
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void attempt(), RETRY_MS);
    timer.unref();
  }

  return {
    /** Unseals now, or keeps trying every few seconds until the key answers. */
    start(): void {
      if (!stopped) return;
      stopped = false;
      void attempt();
    },
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
