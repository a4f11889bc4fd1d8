import { BadParameter } from '../errors/index.js';
import type { SecretHead, SecretVersionRecord } from './types.js';

/**
 * Seals and opens backup blobs with the installation's backup key: opaque to the holder,
 * integrity-protected, restorable into any vault of the same installation and no other.
 */
export interface BackupCodec {
  seal(kind: string, payload: Uint8Array): string;
  /** undefined when the blob is malformed, tampered or from another installation. */
  open(kind: string, blob: string): Buffer | undefined;
}

export interface SecretBackupContents {
  head: SecretHead;
  versions: SecretVersionRecord[];
}

const KIND = 'secret';

export const secretBackup = {
  encode(codec: BackupCodec, contents: SecretBackupContents): string {
    return codec.seal(KIND, Buffer.from(JSON.stringify({ v: 1, ...contents }), 'utf8'));
  },

  decode(codec: BackupCodec, blob: string): SecretBackupContents {
    const opened = codec.open(KIND, blob);
    if (!opened) {
      throw new BadParameter(
        'The backup blob is not valid: it is damaged, is not a secret backup, or was made by another Coffer installation.',
      );
    }
    const parsed = JSON.parse(opened.toString('utf8')) as SecretBackupContents;
    if (!parsed.versions.some((record) => record.version === parsed.head.latestVersion)) {
      throw new BadParameter('The backup blob is not valid: its latest version is missing.');
    }
    return { head: parsed.head, versions: parsed.versions };
  },
};
