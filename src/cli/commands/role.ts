import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat } from '../options.js';
import { listItems, printDone, printResult } from '../output.js';
import { renderTable } from '../table.js';
import { type Action, leaf } from './leaf.js';

/** `coffer role ...`: role definitions and assignments, as `az role` (docs/admin-api.md, Roles). */

const DEFINITIONS = '/coffer/roles/definitions';
const ASSIGNMENTS = '/coffer/roles/assignments';

interface AssignmentOptions {
  role?: string;
  assignee?: string;
  scope?: string;
  ids?: string[];
  /** The older spelling of --ids, kept so existing scripts run. */
  id?: string[];
}

export function registerRoleCommands(program: Command): void {
  const role = program.command('role').description('manage role definitions and role assignments');
  const assignment = role.command('assignment').description('give roles to principals at a scope');

  leaf(assignment, 'create', 'assign a role to a principal at a scope', createAssignment)
    .requiredOption('--role <role>', 'role name or id, such as "Key Vault Secrets User"')
    .requiredOption(
      '--assignee <id>',
      'objectId or clientId of a principal, a user (objectId or user name) or a group',
    )
    .requiredOption(
      '--scope <scope>',
      "'/', '/vaults/{vault}' or '/vaults/{vault}/{secrets|keys|certificates}/{name}'",
    );

  leaf(assignment, 'list', 'list role assignments', async ({ command }) => {
    const items = await findAssignments(command, command.opts<AssignmentOptions>());
    printResult(outputFormat(command), items, () => renderAssignments(items));
  })
    .option('--assignee <id>', 'only this principal (objectId or clientId)')
    .option('--scope <scope>', 'only assignments at this scope or below it')
    .option('--role <role>', 'only this role (name or id)');

  leaf(
    assignment,
    'delete',
    'delete role assignments, by ids or by role, assignee and scope',
    deleteAssignments,
  )
    .option('--ids <id...>', 'role assignment ids (as `az role assignment delete --ids`)')
    .option('--id <id...>', 'same as --ids')
    .option('--role <role>', 'role name or id')
    .option('--assignee <id>', 'objectId or clientId')
    .option('--scope <scope>', 'exact scope of the assignment');

  const definition = role.command('definition').description('built-in and custom roles');
  leaf(definition, 'list', 'list role definitions', async ({ command }) => {
    const items = listItems(await apiClientFor(command).call('GET', DEFINITIONS));
    printResult(outputFormat(command), items, () =>
      renderTable(
        ['Name', 'Id', 'Type'],
        items.map((item) => [item['name'], item['id'], item['roleType']]),
      ),
    );
  });
  leaf(definition, 'create', 'create or replace a custom role from a JSON file', async ({ command }) => {
    const { file } = command.opts<{ file: string }>();
    const answer = await apiClientFor(command).call('POST', DEFINITIONS, readRoleFile(file));
    printResult(outputFormat(command), answer, () => renderTable(['Name', 'Id', 'Type'], [rowOf(answer)]));
  }).requiredOption('--file <file>', 'JSON: {"name", "description", "actions", "dataActions", ...}');
  leaf(definition, 'delete', 'delete a custom role', async ({ command, operands }) => {
    await apiClientFor(command).call('DELETE', `${DEFINITIONS}/${encodeURIComponent(operands[0] ?? '')}`);
    printDone(outputFormat(command), `Deleted role '${operands[0]}'.`);
  }).argument('<role>', 'role name or id');
}

const createAssignment: Action = async ({ command }) => {
  const { role, assignee, scope } = command.opts<Required<AssignmentOptions>>();
  const answer = await apiClientFor(command).call('POST', ASSIGNMENTS, {
    role,
    principalId: assignee,
    scope,
  });
  printResult(outputFormat(command), answer, () => renderAssignments([answer as Record<string, unknown>]));
};

/** By ids, or every assignment of the role to the assignee at exactly that scope (as `az role assignment delete`). */
const deleteAssignments: Action = async ({ command }) => {
  const options = command.opts<AssignmentOptions>();
  const given = [...(options.ids ?? []), ...(options.id ?? [])].map(assignmentName);
  let ids: string[];
  if (given.length > 0) {
    if (options.role || options.assignee || options.scope)
      throw new CliError('give either --ids, or --role, --assignee and --scope; not both.');
    ids = given;
  } else if (options.role && options.assignee && options.scope) {
    const matches = await findAssignments(command, options);
    const exact = matches.filter((item) => String(item['scope']) === normalScope(options.scope!));
    if (exact.length === 0)
      throw new CliError(
        `no assignment of role '${options.role}' to '${options.assignee}' at '${options.scope}'. List them with: coffer role assignment list --assignee ${options.assignee}`,
      );
    ids = exact.map((item) => String(item['id']));
  } else {
    throw new CliError(
      'say which assignments to delete: --ids ID..., or --role, --assignee and --scope together.',
    );
  }
  const client = apiClientFor(command);
  for (const id of ids) await client.call('DELETE', `${ASSIGNMENTS}/${encodeURIComponent(id)}`);
  printDone(outputFormat(command), `Deleted ${ids.length} role assignment${ids.length === 1 ? '' : 's'}.`);
};

async function findAssignments(
  command: Command,
  options: AssignmentOptions,
): Promise<Record<string, unknown>[]> {
  const query = new URLSearchParams();
  if (options.assignee !== undefined) query.set('principalId', options.assignee);
  if (options.scope !== undefined) query.set('scope', options.scope);
  if (options.role !== undefined) query.set('role', options.role);
  const suffix = query.size > 0 ? `?${query.toString()}` : '';
  return listItems(await apiClientFor(command).call('GET', `${ASSIGNMENTS}${suffix}`));
}

/** An assignment id, or the full id Azure's tools print (`.../roleAssignments/{id}`): its last segment. */
function assignmentName(id: string): string {
  return id.replace(/\/+$/, '').split('/').pop() ?? id;
}

function normalScope(scope: string): string {
  const lower = scope.trim().toLowerCase();
  return lower.length > 1 ? lower.replace(/\/+$/, '') : lower;
}

function readRoleFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not JSON. Write {"name": "...", "dataActions": ["..."]}.`);
  }
}

function rowOf(value: unknown): unknown[] {
  const item = value as Record<string, unknown>;
  return [item['name'], item['id'], item['roleType']];
}

function renderAssignments(items: Record<string, unknown>[]): string {
  return renderTable(
    ['Id', 'Role', 'Principal', 'Scope'],
    items.map((item) => [
      item['id'],
      item['roleDefinitionName'] ?? item['roleDefinitionId'],
      item['principalId'],
      item['scope'],
    ]),
  );
}
