import type { Command } from 'commander';
import { apiClientFor, outputFormat } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import { leaf } from './leaf.js';

/** `coffer group ...`: groups, as `az ad group` (docs/admin-api.md, Groups). */

const BASE = '/coffer/groups';

export function registerGroupCommands(program: Command): void {
  const group = program
    .command('group')
    .description('manage groups (their role assignments count for members)');

  leaf(group, 'create', 'create a group', async ({ command }) => {
    const { name, description } = command.opts<{ name: string; description?: string }>();
    const body = description === undefined ? { displayName: name } : { displayName: name, description };
    const answer = await apiClientFor(command).call('POST', BASE, body);
    printResult(outputFormat(command), answer, () => renderGroup(answer));
  })
    .requiredOption('--name <name>', 'display name')
    .option('--description <text>', 'what the group is for');

  leaf(group, 'list', 'list the groups', async ({ command }) => {
    const items = listItems(await apiClientFor(command).call('GET', BASE));
    printResult(outputFormat(command), items, () =>
      renderTable(
        ['DisplayName', 'ObjectId', 'Members', 'Created'],
        items.map((item) => [
          item['displayName'],
          item['objectId'],
          Array.isArray(item['members']) ? item['members'].length : '',
          item['createdAt'],
        ]),
      ),
    );
  });

  leaf(group, 'show', 'show a group and its direct members', async ({ command, operands }) => {
    const answer = await apiClientFor(command).call('GET', groupPath(operands[0]));
    printResult(outputFormat(command), answer, () => renderGroup(answer));
  }).argument('<id>', 'objectId or (unique) display name');

  leaf(group, 'delete', 'delete a group', async ({ command, operands }) => {
    await apiClientFor(command).call('DELETE', groupPath(operands[0]));
    printDone(outputFormat(command), `Deleted group '${operands[0]}'.`);
  }).argument('<id>', 'objectId or (unique) display name');

  const member = group.command('member').description('add or remove members of a group');
  leaf(member, 'add', 'add a user, service principal or group to a group', async ({ command }) => {
    const { group: id, memberId } = command.opts<{ group: string; memberId: string }>();
    const answer = await apiClientFor(command).call('POST', `${groupPath(id)}/members`, { memberId });
    printResult(outputFormat(command), answer, () => renderGroup(answer));
  })
    .requiredOption('--group <id>', 'the group: objectId or display name')
    .requiredOption('--member-id <id>', "the member's objectId (or a principal's clientId, a user's UPN)");
  leaf(member, 'remove', 'remove a direct member from a group', async ({ command }) => {
    const { group: id, memberId } = command.opts<{ group: string; memberId: string }>();
    await apiClientFor(command).call('DELETE', `${groupPath(id)}/members/${encodeURIComponent(memberId)}`);
    printDone(outputFormat(command), `Removed '${memberId}' from group '${id}'.`);
  })
    .requiredOption('--group <id>', 'the group: objectId or display name')
    .requiredOption('--member-id <id>', "the member's objectId");
}

function groupPath(id: string | undefined): string {
  return `${BASE}/${encodeURIComponent(id ?? '')}`;
}

function renderGroup(value: unknown): string {
  const group = asRecord(value);
  return renderProperties([
    ['Display name', group['displayName']],
    ['Object ID', group['objectId']],
    ['Description', group['description']],
    ['Members', Array.isArray(group['members']) ? group['members'] : []],
    ['Created', group['createdAt']],
  ]);
}
