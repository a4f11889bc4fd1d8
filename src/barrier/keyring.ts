import { randomKey } from '../crypto/aes-gcm.js';

/**
 * The data-encryption keys, one per term. New records are written with the active term; old
 * terms stay so that records written before a rotation remain readable.
 */
export class Keyring {
  private constructor(
    private readonly keys: Map<number, Buffer>,
    readonly activeTerm: number,
    readonly rotatedAtMs: number,
  ) {}

  static create(nowMs: number): Keyring {
    return new Keyring(new Map([[1, randomKey()]]), 1, nowMs);
  }

  key(term: number): Buffer | undefined {
    return this.keys.get(term);
  }

  activeKey(): Buffer {
    return this.keys.get(this.activeTerm)!;
  }

  get terms(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  withNewTerm(nowMs: number): Keyring {
    const term = this.activeTerm + 1;
    return new Keyring(new Map([...this.keys, [term, randomKey()]]), term, nowMs);
  }

  /** Overwrites key bytes in memory; used when sealing. */
  wipe(): void {
    for (const key of this.keys.values()) key.fill(0);
    this.keys.clear();
  }

  serialize(): Buffer {
    const keys = [...this.keys].map(([term, key]) => ({ term, key: key.toString('base64') }));
    return Buffer.from(JSON.stringify({ activeTerm: this.activeTerm, rotatedAtMs: this.rotatedAtMs, keys }));
  }

  static deserialize(bytes: Buffer): Keyring {
    const parsed = JSON.parse(bytes.toString('utf8')) as {
      activeTerm: number;
      rotatedAtMs: number;
      keys: Array<{ term: number; key: string }>;
    };
    const keys = new Map(parsed.keys.map(({ term, key }) => [term, Buffer.from(key, 'base64')]));
    if (!keys.has(parsed.activeTerm)) throw new Error('keyring has no key for its active term');
    return new Keyring(keys, parsed.activeTerm, parsed.rotatedAtMs);
  }
}
