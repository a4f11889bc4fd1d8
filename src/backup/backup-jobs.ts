import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BadParameter, CofferError, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';
import { unixSeconds } from '../lib/clock.js';

/** Azure's long-running operation status for Managed HSM backup and restore jobs. */
export interface BackupJob {
  jobId: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  statusDetails: string | null;
  error: { code: string; message: string } | null;
  startTime: number;
  endTime: number | null;
  /** Backups only: where the backup is, `{storageResourceUri}/{folder}` as Azure answers it. */
  azureStorageBlobContainerUri?: string;
}

const MAX_JOBS = 200;

/** Jobs of this node, newest kept; a client polls them at `/backup|restore/{jobId}/pending`. */
export function createBackupJobs(clock: Clock) {
  const jobs = new Map<string, BackupJob>();
  const now = () => unixSeconds(clock.nowMs());

  return {
    /**
     * Starts `work` as a job and answers its state at start, InProgress, as Azure does: SDK
     * pollers (azure-core's) never look at an outcome that is already final in the first answer,
     * so a failure reported there would pass unnoticed.
     */
    start(work: () => Promise<{ location?: string; details: string }>): BackupJob {
      const job: BackupJob = {
        jobId: newUuid().replace(/-/g, ''),
        status: 'InProgress',
        statusDetails: null,
        error: null,
        startTime: now(),
        endTime: null,
      };
      jobs.set(job.jobId, job);
      for (const id of jobs.keys()) if (jobs.size > MAX_JOBS) jobs.delete(id);
      const initial = { ...job };
      void work().then(
        (result) => {
          Object.assign(job, { status: 'Succeeded', statusDetails: result.details, endTime: now() });
          if (result.location) job.azureStorageBlobContainerUri = result.location;
        },
        (error: unknown) => {
          // Only our own errors say what went wrong in words safe to show; anything else stays generic.
          const known = error instanceof CofferError;
          Object.assign(job, {
            status: 'Failed',
            endTime: now(),
            statusDetails: known ? error.message : 'The operation failed on the server.',
            error: known
              ? { code: error.code, message: error.message }
              : { code: 'InternalError', message: 'The operation failed on the server.' },
          });
        },
      );
      return initial;
    },

    get(jobId: string): BackupJob {
      const job = jobs.get(jobId);
      if (!job)
        throw new NotFound(
          'JobNotFound',
          `No backup or restore job '${jobId.slice(0, 64)}' is known to this server.`,
        );
      return job;
    },
  };
}

export type BackupJobs = ReturnType<typeof createBackupJobs>;

/**
 * Where a Managed HSM-shaped backup goes or comes from: `storageResourceUri` must be a `file:`
 * URL inside the server's backup directory (`backupDir`), and the folder (a backup's name) must
 * stay inside it too. Letting a caller name any path would let it write or read any file the
 * server can.
 */
export function resolveBackupLocation(
  backupDir: string | undefined,
  storageResourceUri: string,
  folder?: string,
): string {
  if (!backupDir) {
    throw new BadParameter(
      'This server has no backup directory: set backupDir (COFFER_BACKUP_DIR) in its configuration to take or restore vault backups.',
    );
  }
  let base: string;
  try {
    const url = new URL(storageResourceUri);
    if (url.protocol !== 'file:') throw new Error('not a file URL');
    base = fileURLToPath(url);
  } catch {
    throw new BadParameter(
      `storageResourceUri must be a file: URL inside the server's backup directory, such as ${pathToFileURL(backupDir).href}; Coffer does not write to Azure Blob Storage.`,
    );
  }
  const root = existsSync(backupDir) ? realpathSync(backupDir) : path.resolve(backupDir);
  const resolved = path.resolve(base, folder ?? '');
  const real = existsSync(resolved) ? realpathSync(resolved) : resolved;
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new BadParameter(
      `storageResourceUri must name a place inside the server's backup directory ${pathToFileURL(root).href}.`,
    );
  }
  return real;
}
