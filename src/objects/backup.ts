import { BadParameter } from '../errors/index.js';
import type { ObjectHead, VersionRecord } from './types.js';

/**
 * Seals and opens backup blobs with the installation's backup key: opaque to the holder,
 * integrity-protected, restorable into any vault of the same installation and no other.
 */
export interface BackupCodec {
  seal(kind: string, payload: Uint8Array): string;
  /** undefined when the blob is malformed, tampered or from another installation. */
  open(kind: string, blob: string): Buffer | undefined;
}

export interface BackupObject<R extends VersionRecord> {
  head: ObjectHead;
  versions: R[];
}

export interface BackupContents<R extends VersionRecord> extends BackupObject<R> {
  /** Records kept beside the object, by path in the vault's view (a policy). */
  companions?: Record<string, unknown>;
  /** Objects it owns in other collections (a certificate's key and secret), by collection. */
  linked?: Record<string, BackupObject<VersionRecord>>;
}

export function encodeBackup<R extends VersionRecord>(
  codec: BackupCodec,
  collection: string,
  contents: BackupContents<R>,
): string {
  return codec.seal(collection, Buffer.from(JSON.stringify({ v: 1, ...contents }), 'utf8'));
}

export function decodeBackup<R extends VersionRecord>(
  codec: BackupCodec,
  collection: string,
  noun: string,
  blob: string,
): BackupContents<R> {
  const opened = codec.open(collection, blob);
  if (!opened) {
    throw new BadParameter(
      `The backup blob is not valid: it is damaged, is not a ${noun.toLowerCase()} backup, or was made by another Coffer installation.`,
    );
  }
  const parsed = JSON.parse(opened.toString('utf8')) as BackupContents<R>;
  if (!parsed.versions.some((record) => record.version === parsed.head.latestVersion)) {
    throw new BadParameter('The backup blob is not valid: its latest version is missing.');
  }
  return parsed;
}
