/**
 * Decrypted records that hold nothing secret (an object's head: its name and latest version
 * id), kept by path so that a read whose stored bytes have not changed skips the AES-GCM
 * decryption: a secret get then decrypts one record, its version, instead of two (issue 15).
 *
 * Exact by construction: an entry is used only when the ciphertext just read from storage is
 * byte for byte the one it was decrypted from (AES-GCM under a given term is deterministic to
 * decrypt), so a change by this process, another process or a restore is seen on the next read.
 * Bounded in count, oldest first out; emptied on seal. Callers get copies, which they may wipe.
 */
export class PlaintextMemo {
  readonly #entries = new Map<string, { stored: Buffer; plaintext: Buffer }>();

  constructor(
    /** Which paths hold no secret: only those are kept. */
    readonly keeps: (path: string) => boolean,
    readonly limit = 10_000,
  ) {}

  /** The plaintext of `stored` at `path` when it is what was last decrypted there. */
  lookup(path: string, stored: Buffer): Buffer | undefined {
    const entry = this.#entries.get(path);
    return entry !== undefined && entry.stored.equals(stored) ? Buffer.from(entry.plaintext) : undefined;
  }

  remember(path: string, stored: Buffer, plaintext: Buffer): void {
    this.#entries.delete(path);
    if (this.#entries.size >= this.limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(path, { stored: Buffer.from(stored), plaintext: Buffer.from(plaintext) });
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
