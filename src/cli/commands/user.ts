import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat, parseBoolean } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { readSecretLine } from '../prompt.js';
import { renderProperties, renderTable } from '../table.js';
import { type Action, leaf } from './leaf.js';

/** `coffer user ...`: users who sign in with a password, as `az ad user` (docs/admin-api.md, Users). */

const BASE = '/coffer/users';

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users (people who sign in with a password)');

  leaf(user, 'create', 'create a user', createAction)
    .requiredOption('--name <upn>', 'user principal name, e.g. alice@example.com')
    .option('--display-name <name>', 'display name (default: the part before @)')
    .option('--password-stdin', 'read the password from stdin (or a hidden prompt on a terminal)')
    .option('--admin', 'make the user an administrator of this server');

  leaf(user, 'list', 'list the users', async ({ command }) => {
    const items = listItems(await apiClientFor(command).call('GET', BASE));
    printResult(outputFormat(command), items, () => renderUserList(items));
  });

  leaf(user, 'show', 'show a user', async ({ command, operands }) => {
    const answer = await apiClientFor(command).call('GET', userPath(operands));
    printResult(outputFormat(command), answer, () => renderUser(answer));
  }).argument('<id>', 'objectId or user principal name');

  leaf(user, 'update', "change a user's password, display name or enabled state", updateAction)
    .argument('<id>', 'objectId or user principal name')
    .option('--enabled <bool>', 'enable or disable sign-in (true|false)', parseBoolean)
    .option('--display-name <name>', 'new display name')
    .option('--password-stdin', 'read a new password from stdin (or a hidden prompt on a terminal)');

  leaf(user, 'delete', 'delete a user', async ({ command, operands }) => {
    await apiClientFor(command).call('DELETE', userPath(operands));
    printDone(outputFormat(command), `Deleted user '${operands[0]}'.`);
  }).argument('<id>', 'objectId or user principal name');
}

/** The password never comes from a flag, so it stays out of shell history and `ps`. */
async function readPassword(): Promise<string> {
  const password = await readSecretLine('Password: ');
  if (password === '')
    throw new CliError('no password on stdin. Pipe it in: printf %s "$PW" | coffer user ...');
  return password;
}

const createAction: Action = async ({ command }) => {
  const options = command.opts<{
    name: string;
    displayName?: string;
    passwordStdin?: boolean;
    admin?: boolean;
  }>();
  if (!options.passwordStdin)
    throw new CliError('a new user needs a password: pass --password-stdin and pipe it in.');
  const body: Record<string, unknown> = { userPrincipalName: options.name, password: await readPassword() };
  if (options.displayName !== undefined) body['displayName'] = options.displayName;
  if (options.admin) body['administrator'] = true;
  const answer = await apiClientFor(command).call('POST', BASE, body);
  printResult(outputFormat(command), answer, () => renderUser(answer));
};

const updateAction: Action = async ({ command, operands }) => {
  const options = command.opts<{ enabled?: boolean; displayName?: string; passwordStdin?: boolean }>();
  const body: Record<string, unknown> = {};
  if (options.enabled !== undefined) body['enabled'] = options.enabled;
  if (options.displayName !== undefined) body['displayName'] = options.displayName;
  if (options.passwordStdin) body['password'] = await readPassword();
  if (Object.keys(body).length === 0) {
    throw new CliError('nothing to update. Pass --enabled, --display-name or --password-stdin.');
  }
  const answer = await apiClientFor(command).call('PATCH', userPath(operands), body);
  printResult(outputFormat(command), answer, () => renderUser(answer));
};

function userPath(operands: string[]): string {
  return `${BASE}/${encodeURIComponent(operands[0] ?? '')}`;
}

function renderUser(value: unknown): string {
  const user = asRecord(value);
  return renderProperties([
    ['User principal name', user['userPrincipalName']],
    ['Display name', user['displayName']],
    ['Object ID', user['objectId']],
    ['Administrator', user['administrator']],
    ['Enabled', user['enabled']],
    ['Created', user['createdAt']],
    ['Password changed', user['passwordChangedAt']],
  ]);
}

function renderUserList(users: Record<string, unknown>[]): string {
  return renderTable(
    ['UserPrincipalName', 'DisplayName', 'ObjectId', 'Admin', 'Enabled', 'Created'],
    users.map((user) => [
      user['userPrincipalName'],
      user['displayName'],
      user['objectId'],
      user['administrator'],
      user['enabled'],
      user['createdAt'],
    ]),
  );
}
