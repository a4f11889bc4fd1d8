import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { openAesGcm, randomKey, sealAesGcm } from '../crypto/aes-gcm.js';
import { fromBase64Url, toBase64Url } from '../lib/base64.js';
import type { BackupCodec } from '../objects/backup.js';

const BACKUP_KEY_PATH = 'backup-key';
const MAGIC = Buffer.from('CFB1');

/**
 * Backup blobs: `CFB1 | nonce | ciphertext | tag`, AES-256-GCM under the installation's backup
 * key (kept in the barrier), with the object kind as additional data so a key backup cannot be
 * restored as a secret.
 */
export function createBackupCodec(key: () => Buffer): BackupCodec {
  const aad = (kind: string) => Buffer.from(`coffer-backup:${kind}`);
  return {
    seal: (kind, payload) => toBase64Url(Buffer.concat([MAGIC, sealAesGcm(key(), payload, aad(kind))])),
    open(kind, blob) {
      const bytes = typeof blob === 'string' ? fromBase64Url(blob) : undefined;
      if (!bytes?.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
      return openAesGcm(key(), bytes.subarray(MAGIC.length), aad(kind));
    },
  };
}

export async function createBackupKey(store: SecureStore): Promise<void> {
  await writeJson(store, BACKUP_KEY_PATH, randomKey().toString('base64'));
}

export async function loadBackupKey(store: SecureStore): Promise<Buffer> {
  const stored = await readJson<string>(store, BACKUP_KEY_PATH);
  if (!stored) throw new Error('the backup key is missing from the store');
  return Buffer.from(stored, 'base64');
}
