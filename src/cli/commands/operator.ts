import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat, parseInteger } from '../options.js';
import { asRecord, printResult } from '../output.js';
import { readSecretLine } from '../prompt.js';
import { renderProperties, renderTable } from '../table.js';
import { type Action, leaf } from './leaf.js';
import { registerSealMigrate } from './offline.js';
import { registerBackupCommands } from './operator-backup.js';
import { registerCheckCommand } from './operator-check.js';

/** `coffer operator ...`: the seal lifecycle (docs/admin-api.md, Operator). */

const BASE = '/coffer/operator';

export function registerOperatorCommands(program: Command): void {
  const operator = program.command('operator').description('initialise, unseal, seal and rotate the store');

  leaf(operator, 'status', 'show whether the store is initialised and sealed', async ({ command }) => {
    const status = await apiClientFor(command).callAnonymous('GET', `${BASE}/status`);
    printResult(outputFormat(command), status, () => renderStatus(status));
  });

  const init = leaf(
    operator,
    'init',
    'initialise the store: unseal shares and the first administrator',
    initAction,
  );
  init
    .option(
      '--shares <n>',
      'number of unseal shares to make (1-10); not with a keyvault seal',
      parseInteger(1, 10),
    )
    .option(
      '--threshold <t>',
      'shares needed to unseal (1-10); not with a keyvault seal',
      parseInteger(1, 10),
    );

  leaf(operator, 'unseal', 'give one unseal share (read from stdin when omitted)', unsealAction)
    .argument('[share]', 'an unseal share; prefer stdin, which stays out of shell history')
    .option('--reset', 'forget the shares given so far');

  registerSealMigrate(operator);

  leaf(operator, 'nodes', "this node's storage mode and the installation's nodes", async ({ command }) => {
    const answer = asRecord(await apiClientFor(command).call('GET', `${BASE}/nodes`));
    printResult(outputFormat(command), answer, () => renderNodes(answer));
  });

  leaf(operator, 'seal', 'seal the store: every request answers 503 until unsealed', async ({ command }) => {
    const status = await apiClientFor(command).call('POST', `${BASE}/seal`);
    printResult(outputFormat(command), status, () => renderStatus(status));
  });

  leaf(operator, 'rotate', 'start a new barrier key term', async ({ command }) => {
    const answer = asRecord(await apiClientFor(command).call('POST', `${BASE}/rotate`));
    printResult(outputFormat(command), answer, () =>
      renderProperties([
        ['Term', answer['term']],
        ['Rotated at', answer['rotatedAt']],
      ]),
    );
  });

  registerCheckCommand(operator);
  registerBackupCommands(operator);

  leaf(operator, 'key-status', 'show the current barrier key term', async ({ command }) => {
    const answer = asRecord(await apiClientFor(command).call('GET', `${BASE}/key-status`));
    printResult(outputFormat(command), answer, () =>
      renderProperties([
        ['Term', answer['term']],
        ['Rotated at', answer['rotatedAt']],
        ['Terms', answer['terms']],
      ]),
    );
  });
}

const initAction: Action = async ({ command }) => {
  const { shares, threshold } = command.opts<{ shares?: number; threshold?: number }>();
  if ((shares === undefined) !== (threshold === undefined))
    throw new CliError(
      'give --shares and --threshold together (or neither, for a server with a keyvault seal).',
    );
  if (shares !== undefined && threshold !== undefined && threshold > shares)
    throw new CliError('--threshold cannot exceed --shares. Lower --threshold.');
  const answer = asRecord(
    await apiClientFor(command).callAnonymous('POST', `${BASE}/init`, { shares, threshold }),
  );
  printResult(outputFormat(command), answer, () => renderInit(answer, threshold ?? 0));
};

function renderNodes(answer: Record<string, unknown>): string {
  const node = asRecord(answer['node']);
  const members = Array.isArray(answer['members']) ? answer['members'].map(asRecord) : [];
  return [
    renderProperties([
      ['This node', node['memberId']],
      ['Storage', `${String(node['backend'])}, ${String(node['mode'])}`],
      ['Hears other nodes', node['feedLive']],
      ['Leads the sweeps', node['leader']],
      ['Stale bound (ms)', node['staleBoundMs']],
    ]),
    renderTable(
      ['Node', 'URL', 'Leader', 'Seen'],
      members.map((member) => [member['memberId'], member['url'], member['leader'], member['seenAt']]),
    ),
  ].join('\n');
}

const unsealAction: Action = async ({ command, operands }) => {
  const api = apiClientFor(command);
  let body: { share: string } | { reset: true };
  if (command.opts<{ reset?: boolean }>().reset) {
    body = { reset: true };
  } else {
    const share = operands[0] ?? (await readSecretLine('Unseal share (hidden): '));
    if (share === '') throw new CliError('no unseal share given. Pass it on stdin or as an argument.');
    body = { share };
  }
  const status = await api.callAnonymous('POST', `${BASE}/unseal`, body);
  printResult(outputFormat(command), status, () => renderStatus(status) + unsealHint(status));
};

function renderStatus(value: unknown): string {
  const status = asRecord(value);
  return renderProperties([
    ['Initialized', status['initialized']],
    ['Sealed', status['sealed']],
    ['Seal type', status['sealType']],
    ['Shares', status['shares']],
    ['Threshold', status['threshold']],
    ['Unseal progress', `${status['progress'] ?? 0}/${status['threshold'] ?? '?'}`],
  ]);
}

function unsealHint(value: unknown): string {
  const status = asRecord(value);
  if (status['sealed'] !== true) return '\nThe store is unsealed.\n';
  return '\nStill sealed: give the next share with `coffer operator unseal`.\n';
}

function renderInit(answer: Record<string, unknown>, threshold: number): string {
  const shares = Array.isArray(answer['shares']) ? answer['shares'] : [];
  const shareLines = renderProperties(
    shares.map((share, index) => [`Unseal share ${index + 1}`, share] as const),
  );
  const credentials = renderProperties([
    ['Tenant ID', answer['tenantId']],
    ['Object ID', answer['objectId']],
    ['Client ID', answer['clientId']],
    ['Client secret', answer['clientSecret']],
  ]);
  if (shares.length === 0) {
    return [
      'First administrator:',
      credentials,
      'WARNING: this client secret is shown once and never again: keep it in a secrets manager.',
      'The store is sealed by its key vault key and unsealed itself; every node does so when it starts.',
      '',
    ].join('\n');
  }
  return [
    shareLines,
    'First administrator:',
    credentials,
    'WARNING: these shares and this client secret are shown once and never again. Store each share',
    'separately (different people or places) and the credentials in a secrets manager: anyone',
    `holding ${threshold} share(s) can unseal the store.`,
    '',
    `Next: the store is sealed. Run \`coffer operator unseal\` ${threshold} time(s), one share each.`,
    '',
  ].join('\n');
}
