import { createHmac, randomBytes } from 'node:crypto';
import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { type CheckpointSigner, checkpointSigner, generateCheckpointKey } from './checkpoint-key.js';

const AUDIT_KEYS_PATH = 'audit-keys';

interface StoredAuditKeys {
  /** Ed25519 private key (PKCS#8 PEM) that signs checkpoints. */
  checkpointKey: string;
  /** 32 random bytes (base64) that HMAC object names, when names are protected. */
  hmacKey: string;
  createdAt: string;
}

/**
 * The installation's audit keys, kept in the barrier and in memory only while unsealed: the
 * checkpoint signing key and the HMAC key for object names. Made on the first unseal that
 * finds none, so installations from before the audit log get theirs too.
 */
export class AuditKeys {
  #loaded: { signer: CheckpointSigner; hmacKey: Buffer } | undefined;

  constructor(private readonly store: SecureStore) {}

  async load(now: Date): Promise<CheckpointSigner> {
    const stored = await this.store.transaction(async (tx) => {
      const existing = await readJson<StoredAuditKeys>(tx, AUDIT_KEYS_PATH);
      if (existing) return existing;
      const created: StoredAuditKeys = {
        checkpointKey: generateCheckpointKey().pkcs8,
        hmacKey: randomBytes(32).toString('base64'),
        createdAt: now.toISOString(),
      };
      await writeJson(tx, AUDIT_KEYS_PATH, created);
      return created;
    });
    this.#loaded = {
      signer: checkpointSigner(stored.checkpointKey),
      hmacKey: Buffer.from(stored.hmacKey, 'base64'),
    };
    return this.#loaded.signer;
  }

  unload(): void {
    this.#loaded?.hmacKey.fill(0);
    this.#loaded = undefined;
  }

  get signer(): CheckpointSigner | undefined {
    return this.#loaded?.signer;
  }

  /**
   * `hmac:` and the HMAC-SHA256 (base64url) of an object name in lower case (Key Vault names
   * ignore case); undefined while sealed. The same name always gives the same value in one
   * installation, so a known name can be searched for; the name cannot be read back.
   */
  hmac(name: string): string | undefined {
    if (!this.#loaded) return undefined;
    return `hmac:${createHmac('sha256', this.#loaded.hmacKey).update(name.toLowerCase(), 'utf8').digest('base64url')}`;
  }
}
