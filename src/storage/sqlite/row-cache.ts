/** How many empty prefixes are remembered: each forgotten key is tested against all of them. */
const MAX_EMPTY_PREFIXES = 32;

/**
 * A bounded LRU of committed rows, in front of the read connection: a secret read is two point
 * reads (head, version) that otherwise cost ~10 µs each in SQLite, a tenth of the request.
 * It holds what the storage layer holds, ciphertext under the barrier's keys and paths, never a
 * plaintext, like HashiCorp Vault's physical cache. Absent rows are remembered too (`null`), so
 * probing a missing name repeatedly costs no SQLite read either.
 *
 * It also remembers a few prefixes that a whole scan found empty (`knownEmpty`): a change of a
 * secret lists its vault's event subscriptions, which is nearly always an empty scan, and SQLite
 * charges ~13 µs for it. Forgetting a key forgets every remembered prefix of it, so the same
 * rule keeps those exact.
 *
 * It stays exact because the committer forgets every key a batch wrote synchronously after its
 * COMMIT, in the same turn of the event loop, before any reader can run again, and the writes of
 * other processes (members of one installation) are forgotten before the next read looks here
 * (sqlite-cluster.ts). The PostgreSQL backend uses it too, with its own rule (pg-storage.ts).
 */
export class RowCache {
  private readonly rows = new Map<string, Buffer | null>();
  private bytes = 0;
  private readonly emptyPrefixes = new Set<string>();

  constructor(private readonly maxBytes: number) {}

  /** The cached row (`null`: known absent), or undefined when the cache does not know. */
  get(key: string): Buffer | null | undefined {
    const row = this.rows.get(key);
    if (row === undefined) return undefined;
    // Re-inserting moves the key to the young end of the Map's insertion order: LRU for free.
    this.rows.delete(key);
    this.rows.set(key, row);
    return row;
  }

  remember(key: string, row: Buffer | undefined): void {
    if (this.maxBytes === 0) return;
    const size = entrySize(key, row ?? null);
    if (size > this.maxBytes / 16) return; // one huge value must not flush everything else
    this.forget(key);
    this.rows.set(key, row ?? null);
    this.bytes += size;
    for (const [oldest, value] of this.rows) {
      if (this.bytes <= this.maxBytes) break;
      this.rows.delete(oldest);
      this.bytes -= entrySize(oldest, value);
    }
  }

  /** Whether a whole scan of `prefix` is known to find no key. */
  knownEmpty(prefix: string): boolean {
    return this.emptyPrefixes.has(prefix);
  }

  /** A whole scan of `prefix`, made after every commit so far was forgotten here, found nothing. */
  rememberEmpty(prefix: string): void {
    if (this.maxBytes === 0) return;
    if (this.emptyPrefixes.size >= MAX_EMPTY_PREFIXES) {
      // A Set iterates in insertion order: the first is the oldest.
      this.emptyPrefixes.delete(this.emptyPrefixes.values().next().value as string);
    }
    this.emptyPrefixes.add(prefix);
  }

  forget(key: string): void {
    for (const prefix of this.emptyPrefixes) if (key.startsWith(prefix)) this.emptyPrefixes.delete(prefix);
    const row = this.rows.get(key);
    if (row === undefined) return;
    this.rows.delete(key);
    this.bytes -= entrySize(key, row);
  }

  clear(): void {
    this.rows.clear();
    this.emptyPrefixes.clear();
    this.bytes = 0;
  }

  get size(): { rows: number; bytes: number } {
    return { rows: this.rows.size, bytes: this.bytes };
  }
}

/** Approximate heap cost: UTF-16 key, the value's bytes, and Map/Buffer bookkeeping. */
function entrySize(key: string, row: Buffer | null): number {
  return 2 * key.length + (row?.length ?? 0) + 96;
}
