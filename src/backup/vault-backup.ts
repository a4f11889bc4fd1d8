import { hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Clock } from '../lib/clock.js';
import type { Storage } from '../storage/types.js';
import type { VaultRecord } from '../vaults/types.js';
import {
  type ArchiveHeader,
  type ArchiveRecord,
  ArchiveReader,
  encodeHeader,
  FrameSealer,
  InvalidBackup,
} from './archive-format.js';

const FRAME_RECORDS = 2000;
const INFO = Buffer.from('coffer vault backup v1');

export interface VaultBackupHeader extends ArchiveHeader {
  kind: 'vault';
  vault: string;
}

/**
 * One vault's objects, in Azure Managed HSM's full-backup shape: every record of the vault's
 * data, decrypted from one storage snapshot and sealed again under a key derived from the
 * installation's backup key (the one per-object backups use). So it restores into any vault of
 * the same installation, or of one restored from a whole backup of it, and nowhere else.
 */
export function vaultBackupKey(installationBackupKey: Buffer, backupId: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', installationBackupKey, backupId, INFO, 32));
}

/** Writes the backup to `file` (never over an existing one) via a `.partial` file, renamed when complete. */
export async function writeVaultBackup(
  deps: {
    storage: Pick<Storage, 'snapshot'>;
    barrier: { openStored(path: string, stored: Buffer): Promise<Buffer | undefined> };
    backupKey: () => Buffer;
    clock: Clock;
  },
  vault: VaultRecord,
  file: string,
): Promise<number> {
  const prefix = `data/${vault.id}/`;
  const snapshot = await deps.storage.snapshot();
  const partial = `${file}.partial`;
  const backupId = randomBytes(16);
  const key = vaultBackupKey(deps.backupKey(), backupId);
  let handle: number | undefined;
  try {
    const header: VaultBackupHeader = {
      format: 1,
      kind: 'vault',
      backupId: backupId.toString('base64'),
      createdAt: new Date(deps.clock.nowMs()).toISOString(),
      records: await snapshot.count(prefix),
      vault: vault.name,
    };
    const headerBytes = encodeHeader(header);
    const sealer = new FrameSealer(key, headerBytes);
    handle = openSync(partial, 'wx', 0o600);
    writeSync(handle, headerBytes);
    for await (const batch of snapshot.entries(FRAME_RECORDS, prefix)) {
      const records: ArchiveRecord[] = [];
      for (const [path, stored] of batch) {
        records.push([path.slice(prefix.length), (await deps.barrier.openStored(path, stored))!]);
      }
      writeSync(handle, sealer.seal(records, false));
    }
    writeSync(handle, sealer.seal([], true));
    fsyncSync(handle);
    closeSync(handle);
    handle = undefined;
    renameSync(partial, file);
    return header.records;
  } catch (error) {
    if (handle !== undefined) closeSync(handle);
    rmSync(partial, { force: true });
    throw error;
  } finally {
    key.fill(0);
    await snapshot.close();
  }
}

/** The records of a vault backup file, authenticated frame by frame, with its header first. */
export async function openVaultBackup(
  file: string,
  backupKey: Buffer,
): Promise<{ header: VaultBackupHeader; batches: AsyncGenerator<ArchiveRecord[]> }> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const reader = new ArchiveReader(stream);
  let header: VaultBackupHeader;
  try {
    header = (await reader.header()) as VaultBackupHeader;
    if (header.kind !== 'vault') throw new InvalidBackup(`it is a ${header.kind} backup, not a vault's.`);
  } catch (error) {
    stream.destroy();
    throw error;
  }
  const key = vaultBackupKey(backupKey, Buffer.from(header.backupId, 'base64'));
  async function* batches(): AsyncGenerator<ArchiveRecord[]> {
    let seen = 0;
    try {
      for await (const frame of reader.frames(key)) {
        seen += frame.records.length;
        if (frame.records.length > 0) yield frame.records;
      }
      if (seen !== header.records)
        throw new InvalidBackup(`it holds ${seen} records where its header says ${header.records}.`);
    } catch (error) {
      // Another installation's backup key fails the very first frame: say so in Azure's terms.
      if (error instanceof InvalidBackup && seen === 0 && /fails authentication/.test(error.message)) {
        throw new InvalidBackup(
          'it was made by another Coffer installation (another security domain), or it was altered.',
        );
      }
      throw error;
    } finally {
      key.fill(0);
      stream.destroy();
    }
  }
  return { header, batches: batches() };
}
