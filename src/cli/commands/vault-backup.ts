import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveConnection, type ConnectionFlags } from '../connection.js';
import { CliError } from '../errors.js';
import { ensurePrivateDirectory, readInputFile, writePrivateFile } from '../files.js';
import { outputFormat } from '../options.js';
import { printResult } from '../output.js';
import { forEachWithProgress, startProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { createVaultClient, type VaultClient, vaultUrlFor } from '../vault-client.js';
import { failureSummary } from './bulk-failures.js';
import type { Collection } from './data-plane.js';
import { leaf } from './leaf.js';
import { backupBlob, restoreBlob } from './object-verbs.js';

/**
 * `coffer vault backup NAME --directory DIR` and `coffer vault restore NAME --directory DIR`:
 * every secret, key and certificate of a vault through Key Vault's own backup blobs (sealed by
 * the server: useless without it), one 0600 file per object, with a progress bar. Secrets and
 * keys of certificates travel inside their certificate's blob, so they are not saved twice.
 */

const COLLECTIONS: readonly Collection[] = ['secrets', 'keys', 'certificates'];
const SUFFIX = '.kvbackup';

interface Entry {
  collection: Collection;
  name: string;
}

export function registerVaultBackupCommands(vault: Command): void {
  leaf(
    vault,
    'backup',
    'back up every object of a vault into a folder (files mode 0600)',
    async ({ command, operands }) => {
      const { directory, overwrite, onlyShowErrors } = command.opts<{
        directory: string;
        overwrite?: boolean;
        onlyShowErrors?: boolean;
      }>();
      const client = clientFor(command, operands[0] ?? '');
      const entries = await objectsOf(client);
      for (const collection of COLLECTIONS) ensurePrivateDirectory(join(directory, collection));
      const progress = startProgress('backup', entries.length, { quiet: onlyShowErrors === true });
      const failures = await forEachWithProgress(
        entries,
        label,
        async (entry) => {
          const blob = await backupBlob(client, entry.collection, entry.name);
          writePrivateFile(join(directory, entry.collection, `${entry.name}${SUFFIX}`), blob, {
            overwrite: overwrite === true,
            option: '--directory',
          });
        },
        progress,
      );
      progress.finish(
        `Backed up ${entries.length - failures.length} of ${entries.length} objects of ${client.vaultName} to ${directory}.`,
      );
      if (failures.length > 0)
        throw failureSummary(
          failures.map(({ item, error }) => ({ name: label(item), error })),
          entries.length,
          'be backed up',
        );
      printEntries(command, entries);
    },
  )
    .argument('<name>', 'vault name')
    .requiredOption('--directory <dir>', 'folder to write to (made with mode 0700 if missing)')
    .option('--overwrite', 'replace backup files that exist')
    .option('--only-show-errors', 'no progress output');

  leaf(
    vault,
    'restore',
    'restore every object backed up in a folder into a vault',
    async ({ command, operands }) => {
      const { directory, onlyShowErrors } = command.opts<{ directory: string; onlyShowErrors?: boolean }>();
      const client = clientFor(command, operands[0] ?? '');
      const entries = backupsIn(directory);
      const progress = startProgress('restore', entries.length, { quiet: onlyShowErrors === true });
      const failures = await forEachWithProgress(
        entries,
        label,
        async (entry) => {
          const blob = readInputFile(
            join(directory, entry.collection, `${entry.name}${SUFFIX}`),
            '--directory',
          );
          await restoreBlob(client, entry.collection, blob);
        },
        progress,
      );
      progress.finish(
        `Restored ${entries.length - failures.length} of ${entries.length} objects into ${client.vaultName}.`,
      );
      if (failures.length > 0)
        throw failureSummary(
          failures.map(({ item, error }) => ({ name: label(item), error })),
          entries.length,
          'be restored (an object that exists must be deleted and purged first)',
        );
      printEntries(command, entries);
    },
  )
    .argument('<name>', 'vault name')
    .requiredOption('--directory <dir>', 'a folder written by `coffer vault backup`')
    .option('--only-show-errors', 'no progress output');
}

function clientFor(command: Command, vaultName: string): VaultClient {
  const connection = resolveConnection(command.opts<ConnectionFlags>());
  return createVaultClient(connection, vaultUrlFor(connection, vaultName));
}

const label = (entry: Entry) => `${entry.collection}/${entry.name}`;

async function objectsOf(client: VaultClient): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const collection of COLLECTIONS) {
    for (const item of await client.list(`/${collection}`)) {
      if (item['managed'] === true) continue;
      const id = String(item['id'] ?? item['kid'] ?? '');
      entries.push({ collection, name: decodeURIComponent(id.split('/')[4] ?? '') });
    }
  }
  return entries;
}

function backupsIn(directory: string): Entry[] {
  const entries: Entry[] = [];
  for (const collection of COLLECTIONS) {
    let files: string[];
    try {
      files = readdirSync(join(directory, collection));
    } catch {
      continue;
    }
    for (const file of files.sort())
      if (file.endsWith(SUFFIX)) entries.push({ collection, name: file.slice(0, -SUFFIX.length) });
  }
  if (entries.length === 0)
    throw new CliError(
      `${directory} holds no backup (no ${COLLECTIONS.join('/, ')}/ *${SUFFIX} files). Check --directory.`,
    );
  return entries;
}

function printEntries(command: Command, entries: Entry[]): void {
  const rows = entries.map((entry) => ({ type: entry.collection, name: entry.name }));
  printResult(outputFormat(command), rows, () =>
    renderTable(
      ['Type', 'Name'],
      rows.map((row) => [row.type, row.name]),
    ),
  );
}
