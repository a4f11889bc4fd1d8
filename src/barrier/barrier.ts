import { IntegrityError, Sealed } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';
import type { FaultCounters } from '../storage/fault-counters.js';
import type { ListOptions, Storage, StorageReader, StorageWriter } from '../storage/types.js';
import { deriveInstallationBackupKey } from './backup-key.js';
import { Keyring } from './keyring.js';
import { PlaintextMemo } from './plaintext-memo.js';
import { decryptRecord, encryptRecord, recordTerm } from './record-format.js';
import { prefixedView, type SecureStore, type SecureTransaction } from './secure-store.js';

/** Where the keyring lives, encrypted under the root key (term 0 marks "root key"). */
export const KEYRING_PATH = 'core/keyring';
const ROOT_TERM = 0;
/** The commit counter: a barrier record, so nobody without the keys can forge a higher count. */
export const COMMIT_RECORD_PATH = 'core/commit-record';

/**
 * Counts every committed write to this store (which `storeId` names). Bumped inside each write's
 * own transaction, so the count always matches the data it sits beside: a store rolled back to
 * an older copy carries the older count, which a copy kept elsewhere can reveal.
 */
export interface CommitRecord {
  storeId: string;
  count: number;
}

export interface BarrierListeners {
  /** Hears every record that fails its integrity check (logged and counted by the server). */
  faults?: FaultCounters;
  /** Hears the commit record after each write is durable. */
  committed?: (record: CommitRecord) => void;
  /**
   * Paths whose plaintext holds nothing secret (object heads), whose decryption may be kept
   * while their stored bytes stay the same (plaintext-memo.ts). None when absent.
   */
  notSecret?: (path: string) => boolean;
}

/**
 * The only holder of the root key and the data keys. Everything above it reads and writes
 * plaintext through it; everything below sees ciphertext. While sealed it holds no key and
 * every access throws Sealed.
 */
export class Barrier implements SecureStore {
  private keyring: Keyring | undefined;

  private readonly memo: PlaintextMemo | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly listeners: BarrierListeners = {},
  ) {
    this.memo = listeners.notSecret && new PlaintextMemo(listeners.notSecret);
  }

  get isSealed(): boolean {
    return this.keyring === undefined;
  }

  async isInitialized(): Promise<boolean> {
    return (await this.storage.get(KEYRING_PATH)) !== undefined;
  }

  /** First start: make a keyring and store it under the root key. */
  async initialize(rootKey: Buffer): Promise<void> {
    const keyring = Keyring.create(this.clock.nowMs());
    await this.storage.put(
      KEYRING_PATH,
      encryptRecord(KEYRING_PATH, ROOT_TERM, rootKey, keyring.serialize()),
    );
    this.keyring = keyring;
    this.rootKey = Buffer.from(rootKey);
  }

  /** Opens the keyring with the root key; a wrong root key fails authentication and throws. */
  async unseal(rootKey: Buffer): Promise<void> {
    this.keyring = await this.loadKeyring(rootKey);
    this.rootKey = Buffer.from(rootKey);
  }

  seal(): void {
    this.memo?.clear();
    this.keyring?.wipe();
    this.keyring = undefined;
    this.rootKey?.fill(0);
    this.rootKey = undefined;
  }

  /** Adds a term: new writes use a new key; records under older terms stay readable. */
  async rotate(): Promise<{ term: number }> {
    const rootKey = this.requireRootKey();
    const { next, counted } = await this.storage.transaction(async (tx) => {
      const current = await this.loadKeyring(rootKey, tx);
      const next = current.withNewTerm(this.clock.nowMs());
      // seal() zeroes rootKey in place; encrypting the keyring after that would lock it away for good.
      if (this.rootKey !== rootKey) throw new Sealed();
      await tx.put(KEYRING_PATH, encryptRecord(KEYRING_PATH, ROOT_TERM, rootKey, next.serialize()));
      return { next, counted: await this.countCommit(tx) };
    });
    // Adopt the term only once committed (a term that never reached storage would make every
    // record written with it unreadable), and never revive a barrier sealed in the meantime.
    if (this.rootKey === rootKey) this.keyring = next;
    this.listeners.committed?.(counted);
    return { term: next.activeTerm };
  }

  /** A record read from a storage snapshot (a vault backup), authenticated and decrypted like any read. */
  openStored(path: string, stored: Buffer): Promise<Buffer | undefined> {
    return this.decrypt(path, stored);
  }

  /** The key of one whole-installation backup (backup-key.ts); the root key never leaves the barrier. */
  installationBackupKey(backupId: Buffer): Buffer {
    return deriveInstallationBackupKey(this.requireRootKey(), backupId);
  }

  keyStatus(): { term: number; rotatedAtMs: number; terms: number[] } {
    const keyring = this.requireKeyring();
    return { term: keyring.activeTerm, rotatedAtMs: keyring.rotatedAtMs, terms: keyring.terms };
  }

  async get(path: string): Promise<Buffer | undefined> {
    const stored = await this.storage.get(path);
    if (stored === undefined || this.memo === undefined || !this.memo.keeps(path)) {
      return this.decrypt(path, stored);
    }
    this.requireKeyring(); // sealed: Sealed, whatever was kept
    const kept = this.memo.lookup(path, stored);
    if (kept !== undefined) return kept;
    const plaintext = await this.decrypt(path, stored);
    if (plaintext !== undefined) this.memo.remember(path, stored, plaintext);
    return plaintext;
  }

  /**
   * Whether `stored` (a row as read from disk) is an intact record of `path`: for a check of
   * every record. A failure is counted and logged like any other; the plaintext is wiped at once.
   */
  async checkRecord(path: string, stored: Buffer): Promise<boolean> {
    try {
      (await this.decrypt(path, stored))?.fill(0);
      return true;
    } catch (error) {
      if (error instanceof IntegrityError) return false;
      throw error;
    }
  }

  async list(prefix: string, options?: ListOptions): Promise<string[]> {
    this.requireKeyring();
    return listRelative(this.storage, prefix, options);
  }

  async put(path: string, value: Uint8Array): Promise<void> {
    await this.transaction((tx) => tx.put(path, value));
  }

  async delete(path: string): Promise<void> {
    await this.transaction((tx) => tx.delete(path));
  }

  /** Every transaction that writes also bumps the commit record, in the same commit. */
  async transaction<T>(work: (tx: SecureTransaction) => Promise<T>): Promise<T> {
    this.requireKeyring();
    let counted: CommitRecord | undefined;
    const result = await this.storage.transaction(async (raw) => {
      let wrote = false;
      const value = await work(this.secureTransaction(raw, () => (wrote = true)));
      if (wrote) counted = await this.countCommit(raw);
      return value;
    });
    // Only now is the write durable: a copy of the count kept elsewhere must never run ahead.
    if (counted) this.listeners.committed?.(counted);
    return result;
  }

  /** The commit record as stored (undefined before the first counted write), for the check at unseal. */
  async commitRecord(): Promise<CommitRecord | undefined> {
    const plaintext = await this.get(COMMIT_RECORD_PATH);
    return plaintext && (JSON.parse(plaintext.toString('utf8')) as CommitRecord);
  }

  view(prefix: string): SecureStore {
    return prefixedView(this, prefix);
  }

  private rootKey: Buffer | undefined;

  private secureTransaction(raw: StorageReader & StorageWriter, wrote: () => void): SecureTransaction {
    return {
      get: async (path) => this.decrypt(path, await raw.get(path)),
      list: (prefix, options) => listRelative(raw, prefix, options),
      put: (path, value) => {
        wrote();
        return raw.put(path, this.encrypt(path, value));
      },
      delete: (path) => {
        wrote();
        return raw.delete(path);
      },
    };
  }

  /** Read-modify-write inside the transaction, so several writers (or nodes) never lose a count. */
  private async countCommit(raw: StorageReader & StorageWriter): Promise<CommitRecord> {
    const stored = await this.decrypt(COMMIT_RECORD_PATH, await raw.get(COMMIT_RECORD_PATH));
    const current = stored
      ? (JSON.parse(stored.toString('utf8')) as CommitRecord)
      : { storeId: newUuid(), count: 0 };
    const next = { storeId: current.storeId, count: current.count + 1 };
    await raw.put(COMMIT_RECORD_PATH, this.encrypt(COMMIT_RECORD_PATH, Buffer.from(JSON.stringify(next))));
    return next;
  }

  private encrypt(path: string, value: Uint8Array): Buffer {
    const keyring = this.requireKeyring();
    return encryptRecord(path, keyring.activeTerm, keyring.activeKey(), value);
  }

  private async decrypt(path: string, stored: Buffer | undefined): Promise<Buffer | undefined> {
    let keyring = this.requireKeyring();
    if (stored === undefined) return undefined;
    const term = recordTerm(stored);
    if (term === undefined || term === ROOT_TERM) throw this.integrityFailure(path);
    if (keyring.key(term) === undefined) keyring = await this.reloadKeyring();
    const key = keyring.key(term);
    const plaintext = key && decryptRecord(path, key, stored);
    if (!plaintext) throw this.integrityFailure(path);
    return plaintext;
  }

  /** Another node may have rotated: pick up its new term rather than fail. */
  private async reloadKeyring(): Promise<Keyring> {
    this.keyring = await this.loadKeyring(this.requireRootKey());
    return this.keyring;
  }

  private async loadKeyring(rootKey: Buffer, reader: StorageReader = this.storage): Promise<Keyring> {
    const stored = await reader.get(KEYRING_PATH);
    if (!stored) throw new Error('the barrier is not initialised');
    const plaintext = decryptRecord(KEYRING_PATH, rootKey, stored);
    if (!plaintext) throw this.integrityFailure(KEYRING_PATH);
    return Keyring.deserialize(plaintext);
  }

  /** Never silent: every failed record is counted (and logged) with its path, never its content. */
  private integrityFailure(path: string): IntegrityError {
    this.listeners.faults?.record({ kind: 'integrityFailure', path });
    return new IntegrityError(path);
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) throw new Sealed();
    return this.keyring;
  }

  private requireRootKey(): Buffer {
    if (!this.rootKey) throw new Sealed();
    return this.rootKey;
  }
}

/** Lists children of `prefix` with `after` and the results relative to it. */
async function listRelative(
  reader: StorageReader,
  prefix: string,
  options: ListOptions = {},
): Promise<string[]> {
  const after = options.after === undefined ? undefined : prefix + options.after;
  const keys = await reader.list(prefix, { ...options, after });
  return keys.map((key) => key.slice(prefix.length));
}
