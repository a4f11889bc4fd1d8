import { type Command, Option } from 'commander';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat, parseBoolean, parseInteger } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import { type Action, leaf } from './leaf.js';
import { registerVaultAccessCommands } from './vault-access.js';
import { registerVaultBackupCommands } from './vault-backup.js';
import { registerDeletedVaultCommands } from './vault-deleted.js';

/** `coffer vault ...`: vaults, as `az keyvault` manages them (docs/admin-api.md, Vaults). */

const BASE = '/coffer/vaults';

interface VaultSettings {
  sku?: 'standard' | 'premium';
  retentionDays?: number;
  enablePurgeProtection?: boolean;
  enableRbacAuthorization?: boolean;
  defaultAction?: 'Allow' | 'Deny';
  throttle?: string | number;
}

const THROTTLE_HELP =
  "Azure's service limits: 'azure' (Azure's documented limits), 'off', or N transactions per 10 seconds";

/** `azure`, `off` or a whole number; the server checks the range and says what it accepts. */
function parseThrottle(text: string): string | number {
  const trimmed = text.trim().toLowerCase();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault').description('create, show, update and delete vaults');

  leaf(vault, 'create', 'create a vault', createAction)
    .argument('<name>', 'vault name: 3-24 letters, digits and hyphens')
    .addOption(
      new Option('--sku <sku>', 'premium vaults hold -HSM keys in the HSM (default standard)').choices([
        'standard',
        'premium',
      ]),
    )
    .option('--retention-days <n>', 'soft-delete retention, 7-90 days (default 90)', parseInteger(7, 90))
    .option('--enable-purge-protection', 'forbid purging deleted objects before retention ends')
    .option(
      '--enable-rbac-authorization <bool>',
      'authorize with role assignments (true|false)',
      parseBoolean,
    )
    .option('--throttle <azure|off|N>', THROTTLE_HELP, parseThrottle);

  leaf(vault, 'show', 'show a vault', async ({ command, operands }) => {
    const answer = await apiClientFor(command).call('GET', vaultPath(operands));
    printResult(outputFormat(command), answer, () => renderVault(answer));
  }).argument('<name>', 'vault name');

  leaf(vault, 'list', 'list the vaults', async ({ command }) => {
    const items = listItems(await apiClientFor(command).call('GET', BASE));
    printResult(outputFormat(command), items, () => renderVaultList(items));
  });

  leaf(vault, 'update', 'change the settings of a vault', updateAction)
    .argument('<name>', 'vault name')
    .option('--retention-days <n>', 'soft-delete retention, 7-90 days', parseInteger(7, 90))
    .option('--enable-purge-protection', 'turn purge protection on (it cannot be turned off)')
    .option(
      '--enable-rbac-authorization <bool>',
      'true: role assignments decide; false: access policies decide',
      parseBoolean,
    )
    .addOption(
      new Option('--default-action <action>', 'network rules: what addresses no rule matches get').choices([
        'Allow',
        'Deny',
      ]),
    )
    .option('--throttle <azure|off|N>', THROTTLE_HELP, parseThrottle);

  leaf(
    vault,
    'delete',
    'soft-delete a vault: recoverable with everything in it until its retention ends',
    async ({ command, operands }) => {
      await apiClientFor(command).call('DELETE', vaultPath(operands));
      printDone(
        outputFormat(command),
        `Deleted vault '${operands[0]}'. It can be recovered (coffer vault recover ${operands[0]}) until it is purged.`,
      );
    },
  ).argument('<name>', 'vault name');

  registerVaultAccessCommands(vault);
  registerVaultBackupCommands(vault);
  registerDeletedVaultCommands(vault);
}

const createAction: Action = async ({ command, operands }) => {
  const options = command.opts<VaultSettings>();
  const body = { name: operands[0], ...(options.sku && { sku: options.sku }), ...settingsBody(options) };
  const answer = await apiClientFor(command).call('POST', BASE, body);
  printResult(outputFormat(command), answer, () => renderVault(answer));
};

const updateAction: Action = async ({ command, operands }) => {
  const body = settingsBody(command.opts<VaultSettings>());
  if (Object.keys(body).length === 0) {
    throw new CliError(
      'nothing to update. Pass --retention-days N, --enable-purge-protection, --enable-rbac-authorization true|false, --default-action Allow|Deny or --throttle azure|off|N.',
    );
  }
  const answer = await apiClientFor(command).call('PATCH', vaultPath(operands), body);
  printResult(outputFormat(command), answer, () => renderVault(answer));
};

/** Only the settings given go to the server, so the others keep their current or default value. */
function settingsBody(options: VaultSettings): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (options.retentionDays !== undefined) body['softDeleteRetentionInDays'] = options.retentionDays;
  if (options.enablePurgeProtection !== undefined)
    body['enablePurgeProtection'] = options.enablePurgeProtection;
  if (options.enableRbacAuthorization !== undefined) {
    body['enableRbacAuthorization'] = options.enableRbacAuthorization;
  }
  if (options.defaultAction !== undefined) body['networkAcls'] = { defaultAction: options.defaultAction };
  if (options.throttle !== undefined) body['throttle'] = options.throttle;
  return body;
}

export function vaultPath(operands: string[]): string {
  return `${BASE}/${encodeURIComponent(operands[0] ?? '')}`;
}

export function renderVault(value: unknown): string {
  const vault = asRecord(value);
  const acls = asRecord(vault['networkAcls'] ?? {});
  const rules = Array.isArray(acls['ipRules']) ? acls['ipRules'].map((rule) => asRecord(rule)['value']) : [];
  const policies = Array.isArray(vault['accessPolicies']) ? vault['accessPolicies'].length : 0;
  return renderProperties([
    ['Name', vault['name']],
    ['Vault URL', vault['vaultUrl']],
    ['SKU', vault['sku']],
    ['Soft-delete retention (days)', vault['softDeleteRetentionInDays']],
    ['Purge protection', vault['enablePurgeProtection']],
    ['RBAC authorization', vault['enableRbacAuthorization']],
    ['Network default action', acls['defaultAction']],
    ['IP rules', rules.join(', ')],
    ['Access policies', policies],
    ['Throttle', vault['throttle']],
    ['Created', vault['createdAt']],
    ['ID', vault['id']],
  ]);
}

function renderVaultList(vaults: Record<string, unknown>[]): string {
  return renderTable(
    ['Name', 'VaultUrl', 'Sku', 'RetentionDays', 'PurgeProtection', 'Rbac', 'Created'],
    vaults.map((vault) => [
      vault['name'],
      vault['vaultUrl'],
      vault['sku'],
      vault['softDeleteRetentionInDays'],
      vault['enablePurgeProtection'],
      vault['enableRbacAuthorization'],
      vault['createdAt'],
    ]),
  );
}
