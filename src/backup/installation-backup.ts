import { randomBytes } from 'node:crypto';
import { Sealed } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { SEAL_CONFIG_PATH, WRAPPED_ROOT_KEY_PATH } from '../seal/types.js';
import type { Storage } from '../storage/types.js';
import { type ArchiveHeader, encodeHeader, FrameSealer } from './archive-format.js';

/** Records per frame: large enough to amortise a frame, small enough to stream smoothly. */
const FRAME_RECORDS = 2000;

export interface InstallationBackupHeader extends ArchiveHeader {
  kind: 'installation';
  /** The seal, in clear as on disk: how many shares the restorer needs. */
  seal: { type: string; shares: number; threshold: number };
  /** The root key wrapped under the unseal key, as on disk: the restorer unwraps it to get the backup key. */
  wrappedRootKey: string;
  cofferVersion: string;
}

/**
 * A whole-installation backup, online: every stored row of one storage snapshot (the barrier's
 * ciphertext, the wrapped root key and the keyring, which is encrypted under the root key),
 * framed and sealed again under a key only the unseal shares lead to (barrier/backup-key.ts).
 * Nothing is decrypted on the way: the server never handles a plaintext value to make it.
 * Writers are not blocked; what they commit after the snapshot is not in the backup.
 */
export async function openInstallationBackup(deps: {
  storage: Pick<Storage, 'snapshot'>;
  barrier: { isSealed: boolean; installationBackupKey(backupId: Buffer): Buffer };
  clock: Clock;
  cofferVersion: string;
}): Promise<{
  header: InstallationBackupHeader;
  stream: AsyncGenerator<Buffer>;
  close: () => Promise<void>;
}> {
  if (deps.barrier.isSealed) throw new Sealed();
  const snapshot = await deps.storage.snapshot();
  try {
    const sealConfig = await snapshot.get(SEAL_CONFIG_PATH);
    const wrappedRootKey = await snapshot.get(WRAPPED_ROOT_KEY_PATH);
    if (!sealConfig || !wrappedRootKey) throw new Sealed();
    const seal = JSON.parse(sealConfig.toString('utf8')) as InstallationBackupHeader['seal'];
    const backupId = randomBytes(16);
    const header: InstallationBackupHeader = {
      format: 1,
      kind: 'installation',
      backupId: backupId.toString('base64'),
      createdAt: new Date(deps.clock.nowMs()).toISOString(),
      records: await snapshot.count(),
      seal: { type: seal.type, shares: seal.shares, threshold: seal.threshold },
      wrappedRootKey: wrappedRootKey.toString('base64'),
      cofferVersion: deps.cofferVersion,
    };
    const key = deps.barrier.installationBackupKey(backupId);
    const headerBytes = encodeHeader(header);
    // Idempotent, and also called when the client goes away before the stream even started: an
    // open snapshot would keep its read transaction (and the WAL) forever.
    const close = async () => {
      key.fill(0);
      await snapshot.close();
    };
    async function* stream(): AsyncGenerator<Buffer> {
      try {
        const sealer = new FrameSealer(key, headerBytes);
        yield headerBytes;
        for await (const batch of snapshot.entries(FRAME_RECORDS)) yield sealer.seal(batch, false);
        yield sealer.seal([], true);
      } finally {
        await close();
      }
    }
    return { header, stream: stream(), close };
  } catch (error) {
    await snapshot.close();
    throw error;
  }
}
