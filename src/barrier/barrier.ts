import { IntegrityError, Sealed } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import type { ListOptions, Storage, StorageReader, StorageWriter } from '../storage/types.js';
import { Keyring } from './keyring.js';
import { decryptRecord, encryptRecord, recordTerm } from './record-format.js';
import { prefixedView, type SecureStore, type SecureTransaction } from './secure-store.js';

/** Where the keyring lives, encrypted under the root key (term 0 marks "root key"). */
export const KEYRING_PATH = 'core/keyring';
const ROOT_TERM = 0;

/**
 * The only holder of the root key and the data keys. Everything above it reads and writes
 * plaintext through it; everything below sees ciphertext. While sealed it holds no key and
 * every access throws Sealed.
 */
export class Barrier implements SecureStore {
  private keyring: Keyring | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

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
    this.keyring?.wipe();
    this.keyring = undefined;
    this.rootKey?.fill(0);
    this.rootKey = undefined;
  }

  /** Adds a term: new writes use a new key; records under older terms stay readable. */
  async rotate(): Promise<{ term: number }> {
    const rootKey = this.requireRootKey();
    const next = await this.storage.transaction(async (tx) => {
      const current = await this.loadKeyring(rootKey, tx);
      const next = current.withNewTerm(this.clock.nowMs());
      // seal() zeroes rootKey in place; encrypting the keyring after that would lock it away for good.
      if (this.rootKey !== rootKey) throw new Sealed();
      await tx.put(KEYRING_PATH, encryptRecord(KEYRING_PATH, ROOT_TERM, rootKey, next.serialize()));
      return next;
    });
    // Adopt the term only once committed (a term that never reached storage would make every
    // record written with it unreadable), and never revive a barrier sealed in the meantime.
    if (this.rootKey === rootKey) this.keyring = next;
    return { term: next.activeTerm };
  }

  /**
   * Another node rotated (its commit changed the keyring): write with its new term from now on.
   * Never revives a barrier sealed meanwhile.
   */
  async refreshKeyring(): Promise<void> {
    const rootKey = this.rootKey;
    if (!rootKey) return;
    const keyring = await this.loadKeyring(rootKey);
    if (this.rootKey === rootKey) this.keyring = keyring;
    else keyring.wipe();
  }

  keyStatus(): { term: number; rotatedAtMs: number; terms: number[] } {
    const keyring = this.requireKeyring();
    return { term: keyring.activeTerm, rotatedAtMs: keyring.rotatedAtMs, terms: keyring.terms };
  }

  async get(path: string): Promise<Buffer | undefined> {
    return this.decrypt(path, await this.storage.get(path));
  }

  async list(prefix: string, options?: ListOptions): Promise<string[]> {
    this.requireKeyring();
    return listRelative(this.storage, prefix, options);
  }

  async put(path: string, value: Uint8Array): Promise<void> {
    await this.storage.put(path, this.encrypt(path, value));
  }

  async delete(path: string): Promise<void> {
    this.requireKeyring();
    await this.storage.delete(path);
  }

  async transaction<T>(work: (tx: SecureTransaction) => Promise<T>): Promise<T> {
    this.requireKeyring();
    return this.storage.transaction((raw) => work(this.secureTransaction(raw)));
  }

  view(prefix: string): SecureStore {
    return prefixedView(this, prefix);
  }

  private rootKey: Buffer | undefined;

  private secureTransaction(raw: StorageReader & StorageWriter): SecureTransaction {
    return {
      get: async (path) => this.decrypt(path, await raw.get(path)),
      list: (prefix, options) => listRelative(raw, prefix, options),
      put: (path, value) => raw.put(path, this.encrypt(path, value)),
      delete: (path) => raw.delete(path),
    };
  }

  private encrypt(path: string, value: Uint8Array): Buffer {
    const keyring = this.requireKeyring();
    return encryptRecord(path, keyring.activeTerm, keyring.activeKey(), value);
  }

  private async decrypt(path: string, stored: Buffer | undefined): Promise<Buffer | undefined> {
    let keyring = this.requireKeyring();
    if (stored === undefined) return undefined;
    const term = recordTerm(stored);
    if (term === undefined || term === ROOT_TERM) throw new IntegrityError(path);
    if (keyring.key(term) === undefined) keyring = await this.reloadKeyring();
    const key = keyring.key(term);
    const plaintext = key && decryptRecord(path, key, stored);
    if (!plaintext) throw new IntegrityError(path);
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
    if (!plaintext) throw new IntegrityError(KEYRING_PATH);
    return Keyring.deserialize(plaintext);
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
