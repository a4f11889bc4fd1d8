import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyRequest } from 'fastify';
import { BadParameter } from '../errors/index.js';
import type { DataRoute } from '../http/data-plane.js';
import { vaultScope } from '../http/data-plane.js';
import { VaultBackupActions } from '../policy/actions.js';
import type { VaultRecord } from '../vaults/types.js';
import { type BackupJob, type BackupJobs, resolveBackupLocation } from './backup-jobs.js';
import { openVaultBackup } from './vault-backup.js';
import type { VaultRestore } from './vault-restore.js';

/** Azure's SASTokenParameter; Coffer reads only `storageResourceUri` (a SAS token has nothing to open here). */
const sasTokenSchema = {
  type: 'object',
  required: ['storageResourceUri'],
  properties: {
    storageResourceUri: { type: 'string', minLength: 1, maxLength: 2048 },
    token: { type: 'string', maxLength: 4096 },
    useManagedIdentity: { type: 'boolean' },
  },
} as const;
const folderSchema = { type: 'string', minLength: 1, maxLength: 1024 } as const;

interface RestoreBody {
  sasTokenParameters: { storageResourceUri: string };
  folderToRestore?: string;
  folder?: string;
}

/**
 * Azure Managed HSM's full backup, full restore and selective key restore (administration.json),
 * at each vault's URL: a Coffer vault plays the part of a Managed HSM, and the "blob container"
 * is a `file:` URL inside the server's backup directory. Long-running operations as Azure runs
 * them: 202 with `Azure-AsyncOperation` to poll at `/backup|restore/{jobId}/pending`.
 */
export function hsmBackupRoutes(deps: {
  jobs: BackupJobs;
  backupDir: string | undefined;
  backupKey: () => Buffer;
  write: (vault: VaultRecord, file: string) => Promise<number>;
  restore: VaultRestore;
}): DataRoute[] {
  const accepted = (request: FastifyRequest, kind: 'backup' | 'restore', job: BackupJob) => ({
    status: 202,
    body: job,
    headers: {
      // Pollers use it as it is: it carries the api-version the request was made with.
      'azure-asyncoperation': `${request.baseUrl}/${kind}/${job.jobId}/pending?api-version=${encodeURIComponent(String((request.query as { 'api-version'?: string })['api-version']))}`,
      'retry-after': '1',
    },
  });
  const source = (request: FastifyRequest) => {
    const body = request.body as RestoreBody;
    const folder = body.folderToRestore ?? body.folder ?? '';
    return resolveBackupLocation(deps.backupDir, body.sasTokenParameters.storageResourceUri, folder);
  };
  const opened = (file: string) => {
    if (!existsSync(file)) {
      throw new BadParameter(
        `There is no backup at ${pathToFileURL(file).href}: check storageResourceUri and the folder name.`,
      );
    }
    return openVaultBackup(file, deps.backupKey());
  };
  const status = (kind: 'backup' | 'restore', action: DataRoute['action']): DataRoute => ({
    method: 'GET',
    url: `/${kind}/:jobId/pending`,
    operation: 'BackupRestoreStatusGet',
    action,
    scope: (request) => vaultScope(request),
    handler: async (request) => ({ body: deps.jobs.get((request.params as { jobId: string }).jobId) }),
  });

  return [
    {
      method: 'POST',
      url: '/backup',
      operation: 'BackupStart',
      action: VaultBackupActions.backupStart,
      scope: (request) => vaultScope(request),
      schema: { body: sasTokenSchema },
      handler: async (request) => {
        const { storageResourceUri } = request.body as { storageResourceUri: string };
        const directory = resolveBackupLocation(deps.backupDir, storageResourceUri);
        const vault = request.vault;
        const stamp = new Date()
          .toISOString()
          .replace(/[-:TZ.]/g, '')
          .slice(0, 16);
        const folder = `${vault.name}-${stamp}`;
        const job = deps.jobs.start(async () => {
          mkdirSync(directory, { recursive: true, mode: 0o700 });
          const records = await deps.write(vault, path.join(directory, folder));
          const location = `${pathToFileURL(directory).href.replace(/\/$/, '')}/${folder}`;
          return { location, details: `Backed up ${records} records of vault ${vault.name}.` };
        });
        return accepted(request, 'backup', job);
      },
    },
    status('backup', VaultBackupActions.backupStatus),
    {
      method: 'PUT',
      url: '/restore',
      operation: 'RestoreStart',
      action: VaultBackupActions.restoreStart,
      scope: (request) => vaultScope(request),
      schema: {
        body: {
          type: 'object',
          required: ['sasTokenParameters', 'folderToRestore'],
          properties: { sasTokenParameters: sasTokenSchema, folderToRestore: folderSchema },
        },
      },
      handler: async (request) => {
        const file = source(request);
        const vault = request.vault;
        const job = deps.jobs.start(async () => {
          const { batches } = await opened(file);
          const records = await deps.restore.restoreVault(vault, batches);
          return { details: `Restored ${records} records into vault ${vault.name}.` };
        });
        return accepted(request, 'restore', job);
      },
    },
    {
      method: 'PUT',
      url: '/keys/:name/restore',
      operation: 'SelectiveKeyRestoreStart',
      action: VaultBackupActions.restoreStart,
      scope: (request) => vaultScope(request, 'keys', (request.params as { name: string }).name),
      schema: {
        body: {
          type: 'object',
          required: ['sasTokenParameters', 'folder'],
          properties: { sasTokenParameters: sasTokenSchema, folder: folderSchema },
        },
      },
      handler: async (request) => {
        const file = source(request);
        const vault = request.vault;
        const name = (request.params as { name: string }).name;
        const job = deps.jobs.start(async () => {
          const { batches } = await opened(file);
          const records = await deps.restore.restoreKey(vault, name, batches);
          return { details: `Restored key ${name} (${records} records) into vault ${vault.name}.` };
        });
        return accepted(request, 'restore', job);
      },
    },
    status('restore', VaultBackupActions.restoreStatus),
  ];
}
