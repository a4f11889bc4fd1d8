import type { Barrier } from '../barrier/barrier.js';
import { randomKey } from '../crypto/aes-gcm.js';
import { unwrapRootKey, wrapRootKey } from '../seal/root-key.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { BadParameter, Conflict } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { combineShares, parseShare, splitUnsealKey, validateShamirParameters } from '../seal/shamir.js';
import {
  AUTO_UNSEAL_TYPES,
  INIT_PENDING_PATH,
  type KeyWrapper,
  LEGACY_PKCS11_UNSEAL_KEY_PATH,
  SEAL_CONFIG_PATH,
  type SealConfig,
  type SealType,
  WRAPPED_UNSEAL_KEY_PATH,
  WRAPPED_ROOT_KEY_PATH,
  type WrappedUnsealKey,
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

const INIT_CLAIM_ID = 'operator:init';
/** How long an init in progress keeps other members from starting another. */
const INIT_CLAIM_MS = 2 * 60_000;

/**
 * The unseal key as an auto-unseal seal stored it: JSON at its path, or a PKCS#11 blob written
 * before the seals were unified.
 */
export async function readWrappedUnsealKey(
  storage: Pick<Storage, 'get'>,
): Promise<WrappedUnsealKey | undefined> {
  const stored = await storage.get(WRAPPED_UNSEAL_KEY_PATH);
  if (stored) return JSON.parse(stored.toString('utf8')) as WrappedUnsealKey;
  const legacy = await storage.get(LEGACY_PKCS11_UNSEAL_KEY_PATH);
  return (
    legacy && { type: 'pkcs11', keyId: '', algorithm: 'CKM_AES_GCM', value: legacy.toString('base64url') }
  );
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
    private readonly options: {
      /** This node's auto-unseal key (the `seal` setting), if it has one. */
      wrapper?: KeyWrapper;
      /** The installation-wide claim (storage/cluster.ts) that lets one member at a time initialise. */
      claim?: (id: string, untilMs: number, nowMs: number) => Promise<boolean>;
    } = {},
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
    },
    bootstrap: () => Promise<T>,
  ): Promise<{ shares: string[]; bootstrapped: T }> {
    const now = this.clock.nowMs();
    // Members share one store: two operators running init on two nodes at once would each write a
    // root key (and each would take the other's marker for an interrupted init and clear it). The
    // first claims the installation for a while; a crash frees it in time.
    if (
      this.options.claim &&
      !(await this.options.claim(INIT_CLAIM_ID, now + INIT_CLAIM_MS, now)) &&
      !(await this.loadConfig())
    ) {
      throw new Conflict(
        'Another node is initialising this installation. Wait, then check coffer operator status.',
      );
    }
    const state = await this.storeState();
    if (state === 'initialized') throw new Conflict('Coffer is already initialised.', 'AlreadyInitialized');
    if (state === 'orphaned') throw new StoreWithoutSealConfig();
    const auto = AUTO_UNSEAL_TYPES.includes(options.type);
    // An auto-unseal seal may come with recovery shares (pkcs11 always does): they open the store without its key.
    const recoveryShares = options.type !== 'dev-key' && (!auto || options.shares > 0);
    if (recoveryShares) validateShamirParameters(options.shares, options.threshold);
    const wrapper = auto ? this.requireWrapper(options.type) : undefined;
    if (state === 'interrupted') await clearUnfinishedInitialisation(this.storage);
    await this.storage.put(INIT_PENDING_PATH, Buffer.from(new Date(now).toISOString()));
    const rootKey = randomKey();
    try {
      const unsealKey = options.unsealKey?.() ?? randomKey();
      // Wrapped before the root key exists: a key vault or token that refuses fails init early.
      const wrappedUnsealKey = await wrapper?.wrap(unsealKey);
      await this.barrier.initialize(rootKey);
      await this.storage.put(WRAPPED_ROOT_KEY_PATH, wrapRootKey(unsealKey, rootKey));
      const bootstrapped = await bootstrap();
      const config: SealConfig = {
        type: options.type,
        shares: options.shares,
        threshold: options.threshold,
        initializedAt: new Date(this.clock.nowMs()).toISOString(),
        ...(wrapper && { wrappingKey: wrapper.description }),
      };
      // One commit turns the unfinished initialisation into an initialised store.
      await this.storage.transaction(async (tx) => {
        if (wrappedUnsealKey)
          await tx.put(WRAPPED_UNSEAL_KEY_PATH, Buffer.from(JSON.stringify(wrappedUnsealKey)));
        await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
        await tx.delete(INIT_PENDING_PATH);
      });
      this.config = config;
      this.barrier.seal();
      const shares = recoveryShares ? await splitUnsealKey(unsealKey, options.shares, options.threshold) : [];
      unsealKey.fill(0);
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
    if (config.shares === 0) {
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
    if (!config || !this.options.wrapper || config.type !== this.options.wrapper.type) return false;
    if (!this.barrier.isSealed) return true;
    const wrapped = await readWrappedUnsealKey(this.storage);
    if (!wrapped) throw new Error('the wrapped unseal key is missing from the store');
    const unsealKey = await this.options.wrapper.unwrap(wrapped);
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

  private requireWrapper(type: SealType): KeyWrapper {
    const wrapper = this.options.wrapper;
    if (wrapper?.type !== type)
      throw new BadParameter(`This node has no ${type} seal configured: set "seal" in its config file.`);
    return wrapper;
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
