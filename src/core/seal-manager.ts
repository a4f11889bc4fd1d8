import type { Barrier } from '../barrier/barrier.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { unwrapRootKey, wrapRootKey } from '../seal/root-key.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { BadParameter, Conflict } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { combineShares, parseShare, splitUnsealKey, validateShamirParameters } from '../seal/shamir.js';
import {
  INIT_PENDING_PATH,
  SEAL_CONFIG_PATH,
  type SealConfig,
  type SealType,
  WRAPPED_ROOT_KEY_PATH,
} from '../seal/types.js';
import type { Storage } from '../storage/types.js';
import {
  clearUnfinishedInitialisation,
  readStoreState,
  type StoreState,
  StoreWithoutSealConfig,
} from './store-state.js';

export interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  sealType: SealType | null;
  shares: number;
  threshold: number;
  progress: number;
}

/** What runs once the barrier opens (load signing keys, start schedulers) and once it closes. */
export interface UnsealHooks {
  afterUnseal(): Promise<void>;
  beforeSeal(): void;
}

/**
 * The seal lifecycle: initialise, gather unseal shares, open and close the barrier. A node
 * whose post-unseal setup fails seals itself again rather than serve half-open.
 */
export class SealManager {
  private pendingShares: Buffer[] = [];
  private config: SealConfig | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly barrier: Barrier,
    private readonly hooks: UnsealHooks,
    private readonly clock: Clock,
  ) {}

  async status(): Promise<SealStatus> {
    const config = await this.loadConfig();
    return {
      initialized: config !== undefined,
      sealed: this.barrier.isSealed,
      sealType: config?.type ?? null,
      shares: config?.shares ?? 0,
      threshold: config?.threshold ?? 0,
      progress: this.pendingShares.length,
    };
  }

  /** Where the store stands before anything is decrypted (see store-state.ts). */
  storeState(): Promise<StoreState> {
    return readStoreState(this.storage);
  }

  /**
   * Creates the root key and keyring, runs `bootstrap` inside the open barrier (first tenant and
   * administrator), then leaves the store sealed (Shamir) or open (dev key). Returns the shares.
   * Refused unless the store is empty or holds only an unfinished initialisation, which is cleared
   * first. `unsealKey` (dev mode) is asked for once the store is marked as being initialised, so a
   * key file written for it always belongs to this initialisation. If anything fails, what was
   * written is removed again (or, after a crash, by the next attempt).
   */
  async initialize<T>(
    options: {
      type: SealType;
      shares: number;
      threshold: number;
      unsealKey?: () => Buffer;
      /** An auto-unseal seal (pkcs11) stores the unseal key wrapped its own way, before init commits. */
      protectUnsealKey?: (unsealKey: Buffer) => Promise<void>;
    },
    bootstrap: () => Promise<T>,
  ): Promise<{ shares: string[]; bootstrapped: T }> {
    const state = await this.storeState();
    if (state === 'initialized') throw new Conflict('Coffer is already initialised.', 'AlreadyInitialized');
    if (state === 'orphaned') throw new StoreWithoutSealConfig();
    validateShamirParameters(options.shares, options.threshold);
    if (state === 'interrupted') await clearUnfinishedInitialisation(this.storage);
    await this.storage.put(INIT_PENDING_PATH, Buffer.from(new Date(this.clock.nowMs()).toISOString()));
    const rootKey = randomKey();
    try {
      const unsealKey = options.unsealKey?.() ?? randomKey();
      await this.barrier.initialize(rootKey);
      await this.storage.put(WRAPPED_ROOT_KEY_PATH, wrapRootKey(unsealKey, rootKey));
      const bootstrapped = await bootstrap();
      await options.protectUnsealKey?.(unsealKey);
      const config: SealConfig = {
        type: options.type,
        shares: options.shares,
        threshold: options.threshold,
        initializedAt: new Date(this.clock.nowMs()).toISOString(),
      };
      // One commit turns the unfinished initialisation into an initialised store.
      await this.storage.transaction(async (tx) => {
        await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
        await tx.delete(INIT_PENDING_PATH);
      });
      this.config = config;
      this.barrier.seal();
      // A pkcs11 seal's shares are recovery shares: they unseal without the token.
      const shares =
        options.type !== 'dev-key' ? await splitUnsealKey(unsealKey, options.shares, options.threshold) : [];
      return { shares, bootstrapped };
    } catch (error) {
      this.seal();
      // Best effort: if this fails too (a full disk), the marker lets the next attempt finish it.
      await clearUnfinishedInitialisation(this.storage).catch(() => undefined);
      throw error;
    } finally {
      rootKey.fill(0);
    }
  }

  /** Adds one share; opens the barrier when the threshold is reached. */
  async submitShare(text: string): Promise<SealStatus> {
    const config = await this.requireConfig();
    if (!this.barrier.isSealed) return this.status();
    const share = parseShare(text, config.shares === 1 ? 32 : 33);
    if (this.pendingShares.some((given) => constantTimeEqual(given, share))) {
      throw new BadParameter(
        'This unseal share was already given; the next share must come from another holder.',
      );
    }
    this.pendingShares.push(share);
    if (this.pendingShares.length < config.threshold) return this.status();
    const shares = this.pendingShares;
    this.pendingShares = [];
    await this.unsealWith(
      await combineShares(shares),
      'The unseal shares do not reconstruct the key. Progress was reset.',
    );
    return this.status();
  }

  resetProgress(): void {
    this.pendingShares = [];
  }

  /** Dev mode (the key file) and auto-unseal (the key the HSM unwrapped): open the barrier with the unseal key. */
  async unsealWithKey(
    unsealKey: Buffer,
    failure = 'The dev unseal key does not open this data dir.',
  ): Promise<void> {
    await this.unsealWith(unsealKey, failure);
  }

  seal(): void {
    this.hooks.beforeSeal();
    this.barrier.seal();
    this.pendingShares = [];
  }

  private async unsealWith(unsealKey: Buffer, failure: string): Promise<void> {
    const wrapped = await this.storage.get(WRAPPED_ROOT_KEY_PATH);
    const rootKey = wrapped && unwrapRootKey(unsealKey, wrapped);
    if (!rootKey) throw new BadParameter(failure, 'InvalidUnsealKey');
    try {
      await this.barrier.unseal(rootKey);
      await this.hooks.afterUnseal();
    } catch (error) {
      this.seal();
      throw error;
    } finally {
      rootKey.fill(0);
    }
  }

  private async loadConfig(): Promise<SealConfig | undefined> {
    if (this.config) return this.config;
    const stored = await this.storage.get(SEAL_CONFIG_PATH);
    this.config = stored && (JSON.parse(stored.toString('utf8')) as SealConfig);
    return this.config;
  }

  private async requireConfig(): Promise<SealConfig> {
    const config = await this.loadConfig();
    if (!config)
      throw new BadParameter(
        'Coffer is not initialised yet: run coffer operator init first.',
        'NotInitialized',
      );
    return config;
  }
}
