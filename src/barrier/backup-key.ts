import { hkdfSync } from 'node:crypto';

const INFO = Buffer.from('coffer installation backup v1');

/**
 * The key that encrypts and authenticates one whole-installation backup: HKDF-SHA256 of the root
 * key with the backup's random id as salt. Only someone who can unwrap the root key (the unseal
 * shares, or the dev key) can derive it, and a fresh id makes every backup's key different.
 */
export function deriveInstallationBackupKey(rootKey: Buffer, backupId: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, backupId, INFO, 32));
}
