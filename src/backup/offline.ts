import { SIGN_IN_STATE_PREFIX } from '../barrier/expiring-records.js';
import {
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  openSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Barrier, KEYRING_PATH } from '../barrier/barrier.js';
import { deriveInstallationBackupKey } from '../barrier/backup-key.js';
import { Keyring } from '../barrier/keyring.js';
import { decryptRecord, recordTerm } from '../barrier/record-format.js';
import { unwrapRootKey } from '../seal/root-key.js';
import { systemClock } from '../lib/clock.js';
import { combineShares, parseShare } from '../seal/shamir.js';
import { WRAPPED_ROOT_KEY_PATH } from '../seal/types.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { type ArchiveRecord, ArchiveReader, InvalidBackup } from './archive-format.js';
import type { InstallationBackupHeader } from './installation-backup.js';

/**
 * Whole-installation backups, offline (`coffer operator backup verify`, `coffer operator
 * restore`): both need what unseals the source (its unseal shares, or its dev key), never a key
 * in the file. Verification authenticates every frame and every record under the source's
 * keyring; restore does the same while it writes a new data dir, which appears only complete.
 */

/** What opens a backup: the source's unseal shares (any threshold of them) or its dev unseal key. */
export interface UnsealMaterial {
  shares?: string[];
  devKey?: Buffer;
}

export type Progress = (done: number, total: number) => void;

export interface BackupSummary {
  records: number;
  createdAt: string;
  seal: InstallationBackupHeader['seal'];
  /** The barrier key terms the records are under. */
  terms: number[];
}

const STAGING_MARKER = '.coffer-restore-in-progress';

/** The header of a backup file, readable without any key: what it needs to be opened. */
export async function readBackupHeader(file: string): Promise<InstallationBackupHeader> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    const header = (await new ArchiveReader(stream).header()) as InstallationBackupHeader;
    if (header.kind !== 'installation') {
      throw new InvalidBackup(`it is a ${header.kind} backup, not a whole installation's.`);
    }
    return header;
  } finally {
    stream.destroy();
  }
}

async function unsealKeyFor(header: InstallationBackupHeader, material: UnsealMaterial): Promise<Buffer> {
  if (header.seal.type === 'dev-key') {
    if (!material.devKey) {
      throw new InvalidBackup(
        "it comes from a dev server: give that server's unseal key with --dev-key DIR/unseal.key.",
      );
    }
    return material.devKey;
  }
  const shares = (material.shares ?? []).filter((share) => share.trim() !== '');
  if (shares.length < header.seal.threshold) {
    throw new InvalidBackup(
      `it needs ${header.seal.threshold} of the source installation's ${header.seal.shares} unseal shares, one per line on standard input; ${shares.length} given.`,
    );
  }
  const size = header.seal.shares === 1 ? 32 : 33;
  return combineShares(shares.map((share) => parseShare(share, size)));
}

async function rootKeyFor(header: InstallationBackupHeader, material: UnsealMaterial): Promise<Buffer> {
  const unsealKey = await unsealKeyFor(header, material);
  const rootKey = unwrapRootKey(unsealKey, Buffer.from(header.wrappedRootKey, 'base64'));
  if (!rootKey) {
    throw new InvalidBackup(
      'the unseal shares (or dev key) given do not open it: they belong to another installation, or one was mistyped.',
    );
  }
  return rootKey;
}

/**
 * Every record of the file, in batches, authenticated twice: each frame under the backup key,
 * and each barrier record under the source's keyring and its own path, exactly as the server
 * would read it. Fails on the first problem, naming it.
 */
async function* verifiedRecords(
  file: string,
  material: UnsealMaterial,
  onHeader: (header: InstallationBackupHeader, rootKey: Buffer) => void,
  terms: Set<number>,
): AsyncGenerator<ArchiveRecord[]> {
  const reader = new ArchiveReader(createReadStream(file, { highWaterMark: 1024 * 1024 }));
  const header = (await reader.header()) as InstallationBackupHeader;
  if (header.kind !== 'installation')
    throw new InvalidBackup(`it is a ${header.kind} backup, not a whole installation's.`);
  const rootKey = await rootKeyFor(header, material);
  const key = deriveInstallationBackupKey(rootKey, Buffer.from(header.backupId, 'base64'));
  let keyring: Keyring | undefined;
  let seen = 0;
  try {
    onHeader(header, rootKey);
    for await (const frame of reader.frames(key)) {
      for (const [recordPath, value] of frame.records) {
        if (recordPath === KEYRING_PATH) {
          const plaintext = decryptRecord(KEYRING_PATH, rootKey, value);
          if (!plaintext) throw new InvalidBackup('its keyring does not open under its root key.');
          keyring = Keyring.deserialize(plaintext);
        } else if (recordPath === WRAPPED_ROOT_KEY_PATH) {
          if (!value.equals(Buffer.from(header.wrappedRootKey, 'base64'))) {
            throw new InvalidBackup('its header and its records name different root keys.');
          }
        } else if (!recordPath.startsWith('core/')) {
          const term = recordTerm(value);
          const termKey = term === undefined ? undefined : keyring?.key(term);
          if (!termKey || !decryptRecord(recordPath, termKey, value)) {
            throw new InvalidBackup(`the record at ${recordPath} fails its integrity check.`);
          }
          terms.add(term!);
        }
      }
      seen += frame.records.length;
      if (frame.records.length > 0) yield frame.records;
    }
    if (seen !== header.records) {
      throw new InvalidBackup(`it holds ${seen} records where its header says ${header.records}.`);
    }
    if (!keyring) throw new InvalidBackup('it holds no keyring.');
  } finally {
    keyring?.wipe();
    key.fill(0);
    rootKey.fill(0);
  }
}

/** Checks a backup end to end without restoring it. */
export async function verifyBackupFile(
  file: string,
  material: UnsealMaterial,
  progress: Progress = () => {},
): Promise<BackupSummary> {
  let header: InstallationBackupHeader | undefined;
  const terms = new Set<number>();
  let done = 0;
  for await (const batch of verifiedRecords(
    file,
    material,
    (found) => {
      header = found;
    },
    terms,
  )) {
    done += batch.length;
    progress(done, header!.records);
  }
  return summary(header!, done, terms);
}

const summary = (header: InstallationBackupHeader, records: number, terms: Set<number>): BackupSummary => ({
  records,
  createdAt: header.createdAt,
  seal: header.seal,
  terms: [...terms].sort((a, b) => a - b),
});

/** Makes a rename in `dir` durable: the new name survives a power cut. */
function syncDirectory(dir: string): void {
  const handle = openSync(dir, 'r');
  try {
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
}

/** A data dir is fit for a restore only if nothing is there yet: nothing is ever overwritten. */
function checkEmptyTarget(dataDir: string): void {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(
      `${dataDir} is not empty: restore into a new or empty directory (nothing in a data dir is ever overwritten).`,
    );
  }
}

/** A staging dir left by a restore that was killed holds only our marker and a partial store. */
function prepareStaging(staging: string): void {
  if (existsSync(staging)) {
    if (!existsSync(path.join(staging, STAGING_MARKER))) {
      throw new Error(`${staging} exists and is not a Coffer restore in progress: move it away first.`);
    }
    rmSync(staging, { recursive: true, force: true });
  }
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(staging, STAGING_MARKER), '');
}

/**
 * Builds a new installation in `dataDir` from a backup. It is written next to it first
 * (`DIR.coffer-restore`) and renamed into place only once every record is written and checked,
 * so `dataDir` is either complete or absent, also if the process is killed. The restored
 * installation starts sealed and unseals with the source's shares (a dev backup's unseal key is
 * placed in the dir, as a dev server keeps it).
 */
export async function restoreBackupFile(
  file: string,
  dataDir: string,
  material: UnsealMaterial,
  progress: Progress = () => {},
): Promise<BackupSummary> {
  const target = path.resolve(dataDir);
  checkEmptyTarget(target);
  const staging = `${target}.coffer-restore`;
  prepareStaging(staging);
  const storage = new SqliteStorage(path.join(staging, 'coffer.db'), { cacheBytes: 0 });
  let header: InstallationBackupHeader | undefined;
  let rootKey: Buffer | undefined;
  const terms = new Set<number>();
  let done = 0;
  try {
    const records = verifiedRecords(
      file,
      material,
      (found, key) => {
        header = found;
        rootKey = Buffer.from(key); // a copy: the reader wipes its own when it is done
      },
      terms,
    );
    for await (const batch of records) {
      await storage.transaction(async (tx) => {
        // Sessions and codes stay behind (see SIGN_IN_STATE_PREFIX).
        for (const [key, value] of batch) if (!key.startsWith(SIGN_IN_STATE_PREFIX)) await tx.put(key, value);
      });
      done += batch.length;
      progress(done, header!.records);
    }
    // The store opens the way the server will open it: the keyring under the root key.
    const barrier = new Barrier(storage, systemClock);
    await barrier.unseal(rootKey!);
    barrier.seal();
  } catch (error) {
    await storage.close();
    rmSync(staging, { recursive: true, force: true });
    throw error;
  } finally {
    rootKey?.fill(0);
  }
  await storage.close();
  if (header!.seal.type === 'dev-key' && material.devKey) {
    writeFileSync(path.join(staging, 'unseal.key'), `${material.devKey.toString('base64')}\n`, {
      mode: 0o600,
    });
  }
  rmSync(path.join(staging, STAGING_MARKER));
  if (existsSync(target)) rmdirSync(target);
  renameSync(staging, target);
  syncDirectory(path.dirname(target));
  return summary(header!, done, terms);
}
