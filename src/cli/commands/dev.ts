import type { Command } from 'commander';
import { apiClientFor, outputFormat, parseInteger } from '../options.js';
import { asRecord, printResult } from '../output.js';
import { renderProperties } from '../table.js';
import { leaf } from './leaf.js';

/** `coffer dev ...`: tools for dev servers only (docs/admin-api.md, Dev mode). */
export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('tools for dev servers (coffer server --dev) only');

  leaf(
    dev,
    'time-shift',
    "move a vault's clock (or every vault's) forward and run what falls due: rotation, expiry, renewal, purge",
    async ({ command }) => {
      const { days, vault } = command.opts<{ days: number; vault?: string }>();
      const answer = asRecord(
        await apiClientFor(command).call('POST', '/coffer/dev/time-shift', { days, vault }),
      );
      printResult(outputFormat(command), answer, () =>
        renderProperties([
          ['Vault', answer['vault'] ?? '(every vault)'],
          ['Ahead of real time (days)', answer['offsetDays']],
          ['Vault time now', answer['now']],
          ['Objects acted on', answer['acted']],
        ]),
      );
    },
  )
    .requiredOption('--days <n>', 'days to move forward (1-3650)', parseInteger(1, 3650))
    .option('--vault <name>', 'only this vault (default: every vault)');
}
