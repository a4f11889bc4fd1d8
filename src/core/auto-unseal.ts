import { HSM_WRAPPED_UNSEAL_KEY_PATH, type Pkcs11Seal } from '../seal/pkcs11-seal.js';
import type { Storage } from '../storage/types.js';
import type { SealManager } from './seal-manager.js';

const RETRY_MS = 5_000;

/**
 * The PKCS#11 seal at start-up: the server unseals itself with the unseal key the token
 * unwraps, with no shares. If the token is not reachable yet, it stays sealed (503) and tries
 * again every few seconds until it unseals once; after that, an operator who seals it again
 * unseals with the recovery shares or a restart, as with HashiCorp Vault's auto-unseal.
 */
export function createAutoUnseal(deps: {
  seal: Pick<SealManager, 'status' | 'unsealWithKey'>;
  storage: Pick<Storage, 'get' | 'put'>;
  hsmSeal: Pkcs11Seal;
  log: (event: { event: string; detail?: string }) => void;
}) {
  let timer: NodeJS.Timeout | undefined;

  /** True once unsealed (or when there is nothing to unseal yet: not initialised). */
  async function attempt(): Promise<boolean> {
    const status = await deps.seal.status();
    if (!status.initialized || !status.sealed) return true;
    const wrapped = await deps.storage.get(HSM_WRAPPED_UNSEAL_KEY_PATH);
    if (!wrapped) {
      deps.log({
        event: 'auto-unseal-impossible',
        detail: 'this data dir was not initialised with the pkcs11 seal',
      });
      return true;
    }
    const unsealKey = await deps.hsmSeal.unwrap(wrapped);
    try {
      await deps.seal.unsealWithKey(
        unsealKey,
        'The unseal key the HSM unwrapped does not open this data dir.',
      );
    } finally {
      unsealKey.fill(0);
    }
    deps.log({ event: 'auto-unsealed' });
    return true;
  }

  return {
    /** For init: stores the unseal key wrapped by the token, before the init commits. */
    async protect(unsealKey: Buffer): Promise<void> {
      await deps.storage.put(HSM_WRAPPED_UNSEAL_KEY_PATH, await deps.hsmSeal.wrap(unsealKey));
    },

    attempt,

    /** Unseals now, or keeps trying every few seconds until the token answers. */
    start(): void {
      const tryOnce = async () => {
        timer = undefined;
        const done = await attempt().catch((error: unknown) => {
          deps.log({ event: 'auto-unseal-failed', detail: (error as Error).message });
          return false;
        });
        if (!done) {
          timer = setTimeout(() => void tryOnce(), RETRY_MS);
          timer.unref();
        }
      };
      void tryOnce();
    },

    stop(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
