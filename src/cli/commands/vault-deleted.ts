import type { Command } from 'commander';
import { apiClientFor, outputFormat } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import { leaf } from './leaf.js';
import { renderVault } from './vault.js';

/** `coffer vault list-deleted|show-deleted|recover|purge`, as `az keyvault` (docs/admin-api.md, Deleted vaults). */

const BASE = '/coffer/deletedvaults';
const deletedPath = (operands: string[]) => `${BASE}/${encodeURIComponent(operands[0] ?? '')}`;

export function registerDeletedVaultCommands(vault: Command): void {
  leaf(vault, 'list-deleted', 'list soft-deleted vaults', async ({ command }) => {
    const items = listItems(await apiClientFor(command).call('GET', BASE));
    printResult(outputFormat(command), items, () => renderDeletedList(items));
  });

  leaf(vault, 'show-deleted', 'show a soft-deleted vault', async ({ command, operands }) => {
    const answer = await apiClientFor(command).call('GET', deletedPath(operands));
    printResult(outputFormat(command), answer, () => renderDeleted(answer));
  }).argument('<name>', 'vault name');

  leaf(
    vault,
    'recover',
    'recover a soft-deleted vault with everything in it',
    async ({ command, operands }) => {
      const answer = await apiClientFor(command).call('POST', `${deletedPath(operands)}/recover`);
      printResult(outputFormat(command), answer, () => renderVault(answer));
    },
  ).argument('<name>', 'vault name');

  leaf(
    vault,
    'purge',
    'purge a soft-deleted vault: its data and role assignments are gone for good',
    async ({ command, operands }) => {
      await apiClientFor(command).call('POST', `${deletedPath(operands)}/purge`);
      printDone(outputFormat(command), `Purged vault '${operands[0]}': its name is free again.`);
    },
  ).argument('<name>', 'vault name');
}

function renderDeleted(value: unknown): string {
  const vault = asRecord(value);
  return renderProperties([
    ['Name', vault['name']],
    ['Deleted', vault['deletionDate']],
    ['Scheduled purge', vault['scheduledPurgeDate']],
    ['Purge protection', vault['purgeProtectionEnabled']],
    ['Soft-delete retention (days)', vault['softDeleteRetentionInDays']],
    ['Created', vault['createdAt']],
    ['ID', vault['id']],
  ]);
}

function renderDeletedList(vaults: Record<string, unknown>[]): string {
  return renderTable(
    ['Name', 'DeletionDate', 'ScheduledPurgeDate', 'PurgeProtection'],
    vaults.map((vault) => [
      vault['name'],
      vault['deletionDate'],
      vault['scheduledPurgeDate'],
      vault['purgeProtectionEnabled'],
    ]),
  );
}
