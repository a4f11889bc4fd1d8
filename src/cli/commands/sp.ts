import type { Command } from 'commander';
import { apiClientFor, outputFormat } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { cellText, renderProperties, renderTable } from '../table.js';
import { type Action, leaf } from './leaf.js';
import { registerSpCredentialCommands } from './sp-credentials.js';

/** `coffer sp ...`: service principals, as `az ad sp` (docs/admin-api.md, Service principals). */

const BASE = '/coffer/principals';

/** The contract's shape for a new secret (CONTRACT section 7), in this order and nothing more. */
const CREDENTIAL_FIELDS = ['objectId', 'clientId', 'clientSecret', 'tenantId', 'name'] as const;

export function registerSpCommands(program: Command): void {
  const sp = program.command('sp').description('manage service principals (clients of the vaults)');

  leaf(sp, 'create', 'create a service principal with a client secret', createAction)
    .requiredOption('--name <name>', 'display name')
    .option('--admin', 'make it an administrator of this server');

  leaf(sp, 'list', 'list the service principals', async ({ command }) => {
    const items = listItems(await apiClientFor(command).call('GET', BASE));
    printResult(outputFormat(command), items, () => renderPrincipalList(items));
  });

  leaf(sp, 'show', 'show a service principal', async ({ command, operands }) => {
    const answer = await apiClientFor(command).call('GET', principalPath(operands));
    printResult(outputFormat(command), answer, () => renderPrincipal(answer));
  }).argument('<id>', 'objectId or clientId');

  leaf(sp, 'delete', 'delete a service principal', async ({ command, operands }) => {
    await apiClientFor(command).call('DELETE', principalPath(operands));
    printDone(outputFormat(command), `Deleted service principal '${operands[0]}'.`);
  }).argument('<id>', 'objectId or clientId');

  leaf(sp, 'reset-secret', 'issue a new client secret; every earlier one stops working', async (args) => {
    const answer = await apiClientFor(args.command).call(
      'POST',
      `${principalPath(args.operands)}/reset-secret`,
    );
    printCredentials(args.command, answer);
  }).argument('<id>', 'objectId or clientId');

  registerSpCredentialCommands(sp);
}

const createAction: Action = async ({ command }) => {
  const { name, admin } = command.opts<{ name: string; admin?: boolean }>();
  const body = admin ? { name, administrator: true } : { name };
  printCredentials(command, await apiClientFor(command).call('POST', BASE, body));
};

function printCredentials(command: Command, value: unknown): void {
  const answer = asRecord(value);
  const credentials = Object.fromEntries(CREDENTIAL_FIELDS.map((field) => [field, answer[field]]));
  printResult(outputFormat(command), credentials, () =>
    [
      renderProperties([
        ['Name', credentials['name']],
        ['Object ID', credentials['objectId']],
        ['Client ID', credentials['clientId']],
        ['Tenant ID', credentials['tenantId']],
        ['Client secret', credentials['clientSecret']],
      ]),
      'The client secret is shown only now: store it in a secrets manager.',
    ].join('\n'),
  );
}

function principalPath(operands: string[]): string {
  return `${BASE}/${encodeURIComponent(operands[0] ?? '')}`;
}

function renderPrincipal(value: unknown): string {
  const principal = asRecord(value);
  const secrets = Array.isArray(principal['secrets']) ? principal['secrets'].map(asRecord) : [];
  return renderProperties([
    ['Name', principal['name']],
    ['Object ID', principal['objectId']],
    ['Client ID', principal['clientId']],
    ['Administrator', principal['administrator']],
    ['Enabled', principal['enabled']],
    ['Created', principal['createdAt']],
    ['Secrets', secrets.map((secret) => `${cellText(secret['id'])} (${cellText(secret['createdAt'])})`)],
  ]);
}

function renderPrincipalList(principals: Record<string, unknown>[]): string {
  return renderTable(
    ['Name', 'ObjectId', 'ClientId', 'Admin', 'Enabled', 'Secrets', 'Created'],
    principals.map((principal) => [
      principal['name'],
      principal['objectId'],
      principal['clientId'],
      principal['administrator'],
      principal['enabled'],
      Array.isArray(principal['secrets']) ? principal['secrets'].length : '',
      principal['createdAt'],
    ]),
  );
}
