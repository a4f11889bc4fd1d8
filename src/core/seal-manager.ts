import type { Barrier } from '../barrier/barrier.js';
import { openAesGcm, randomKey, sealAesGcm } from '../crypto/aes-gcm.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { BadParameter, Conflict } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { combineShares, parseShare, splitUnsealKey, validateShamirParameters } from '../seal/shamir.js';
import {
  AUTO_UNSEAL_TYPES,
  type KeyWrapper,
  SEAL_CONFIG_PATH,
  type SealConfig,
  type SealType,
  WRAPPED_ROOT_KEY_PATH,
  WRAPPED_UNSEAL_KEY_PATH,
  type WrappedUnsealKey,
} from '../seal/types.js';
import type { Storage } from '../storage/types.js';

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

/** The root key is bound to its path: a wrapped key copied elsewhere does not open. */
export const ROOT_KEY_AAD = Buffer.from(WRAPPED_ROOT_KEY_PATH);

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
    /** This node's auto-unseal key (the `seal` setting), if it has one. */
    private readonly wrapper?: KeyWrapper,
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

  /**
   * Creates the root key and keyring, runs `bootstrap` inside the open barrier (first tenant and
   * administrator), then leaves the store sealed (Shamir) or open (dev key). Returns the shares.
   */
  async initialize<T>(
    options: { type: SealType; shares: number; threshold: number; unsealKey?: Buffer },
    bootstrap: () => Promise<T>,
  ): Promise<{ shares: string[]; bootstrapped: T }> {
    if (await this.loadConfig()) throw new Conflict('Coffer is already initialised.', 'AlreadyInitialized');
    const auto = AUTO_UNSEAL_TYPES.includes(options.type);
    if (!auto) validateShamirParameters(options.shares, options.threshold);
    const unsealKey = options.unsealKey ?? randomKey();
    // Wrapped first: a key vault that refuses fails init before anything is written.
    const wrappedUnsealKey = auto ? await this.requireWrapper(options.type).wrap(unsealKey) : undefined;
    const rootKey = randomKey();
    await this.barrier.initialize(rootKey);
    await this.storage.put(WRAPPED_ROOT_KEY_PATH, sealAesGcm(unsealKey, rootKey, ROOT_KEY_AAD));
    if (wrappedUnsealKey) {
      await this.storage.put(WRAPPED_UNSEAL_KEY_PATH, Buffer.from(JSON.stringify(wrappedUnsealKey)));
    }
    const bootstrapped = await bootstrap();
    const config: SealConfig = {
      type: options.type,
      shares: options.shares,
      threshold: options.threshold,
      initializedAt: new Date(this.clock.nowMs()).toISOString(),
      ...(auto && { wrappingKey: this.requireWrapper(options.type).description }),
    };
    // Written last: a crash before this line leaves an uninitialised store that init can redo.
    await this.storage.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
    this.config = config;
    this.barrier.seal();
    rootKey.fill(0);
    const shares =
      options.type === 'shamir' ? await splitUnsealKey(unsealKey, options.shares, options.threshold) : [];
    return { shares, bootstrapped };
  }

  /** Adds one share; opens the barrier when the threshold is reached. */
  async submitShare(text: string): Promise<SealStatus> {
    const config = await this.requireConfig();
    if (!this.barrier.isSealed) return this.status();
    if (AUTO_UNSEAL_TYPES.includes(config.type)) {
      throw new BadParameter(
        `This installation uses the ${config.type} seal: each node unseals itself when it starts, with the key in its "seal" setting. Check that node's seal settings and log, then restart it.`,
      );
    }
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

  /**
   * Auto-unseal: unwrap the unseal key with this node's wrapping key and open the barrier.
   * False when the installation's seal is not the one this node is configured for.
   */
  async autoUnseal(): Promise<boolean> {
    const config = await this.loadConfig();
    if (!config || !this.wrapper || config.type !== this.wrapper.type) return false;
    if (!this.barrier.isSealed) return true;
    const stored = await this.storage.get(WRAPPED_UNSEAL_KEY_PATH);
    if (!stored) throw new Error('the wrapped unseal key is missing from the store');
    const unsealKey = await this.wrapper.unwrap(JSON.parse(stored.toString('utf8')) as WrappedUnsealKey);
    try {
      await this.unsealWith(unsealKey, 'The unwrapped unseal key does not open this installation.');
    } finally {
      unsealKey.fill(0);
    }
    return true;
  }

  /** Another member changed the seal (seal-migrate): read it again when next needed. */
  forgetConfig(): void {
    this.config = undefined;
  }

  /** Dev mode: open the barrier with the key from the data dir. */
  async unsealWithKey(unsealKey: Buffer): Promise<void> {
    await this.unsealWith(unsealKey, 'The dev unseal key does not open this data dir.');
  }

  seal(): void {
    this.hooks.beforeSeal();
    this.barrier.seal();
    this.pendingShares = [];
  }

  private async unsealWith(unsealKey: Buffer, failure: string): Promise<void> {
    const wrapped = await this.storage.get(WRAPPED_ROOT_KEY_PATH);
    const rootKey = wrapped && openAesGcm(unsealKey, wrapped, ROOT_KEY_AAD);
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

  private requireWrapper(type: SealType): KeyWrapper {
    if (this.wrapper?.type !== type)
      throw new BadParameter(`This node has no ${type} seal configured: set "seal" in its config file.`);
    return this.wrapper;
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
