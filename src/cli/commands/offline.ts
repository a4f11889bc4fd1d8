import { type Command, Option } from 'commander';
import type { migrateSealOffline, migrateStorage } from '../../operator-tools.js';
import { importBuilt } from '../built-module.js';
import { CliError, sentence } from '../errors.js';
import { addOutputOption, outputFormat, parseInteger } from '../options.js';
import { printResult } from '../output.js';
import { readSecretLines } from '../prompt.js';
import { renderProperties } from '../table.js';

/**
 * Commands that work on an installation's storage on this host, not through a server:
 * `coffer storage migrate` and `coffer operator seal-migrate`. Like `coffer server`, they load
 * the server's modules only when run.
 */

interface OperatorTools {
  migrateStorage: typeof migrateStorage;
  migrateSealOffline: typeof migrateSealOffline;
}

const TOOLS_MODULE = new URL('../../operator-tools.js', import.meta.url).href;

const loadTools = () => importBuilt<OperatorTools>(TOOLS_MODULE, 'the server', 'dist/src/operator-tools.js');

export function registerStorageCommands(program: Command): void {
  const storage = program.command('storage').description("move an installation's storage");
  const migrate = storage
    .command('migrate')
    .description(
      'copy an installation (ciphertext as stored: no unseal needed) to another backend, then verify it',
    )
    .requiredOption('--from <store>', 'sqlite:DIR (its servers stopped) or postgres://USER@HOST:PORT/DB')
    .requiredOption('--to <store>', 'an empty target: postgres://USER@HOST:PORT/DB or sqlite:DIR')
    .option('--no-verify', 'skip comparing every key and value afterwards');
  addOutputOption(migrate).action(async (_options: unknown, command: Command) => {
    const flags = command.opts<{ from: string; to: string; verify: boolean }>();
    const tools = await loadTools();
    const result = await failingClearly('storage migration', () =>
      tools.migrateStorage({ ...flags, progress: progressBar() }),
    );
    printResult(
      outputFormat(command),
      result,
      () =>
        renderProperties([
          ['Entries copied', result.entries],
          ['Claims copied', result.claims],
          ['Verified', result.verified],
        ]) +
        '\nNext: point the servers at the target (storage.postgres.url or COFFER_STORAGE_URL) and start them.\n',
    );
  });
}

export function registerSealMigrate(operator: Command): void {
  const command = operator
    .command('seal-migrate')
    .description(
      "change the installation's seal (Shamir shares, a key vault key or a PKCS#11 token key), keeping its data",
    )
    .addOption(
      new Option('--to <seal>', 'the new seal')
        .choices(['shamir', 'keyvault', 'pkcs11'])
        .makeOptionMandatory(),
    )
    .option(
      '--shares <n>',
      'shares to make (1-10): the unseal shares (shamir) or recovery shares (keyvault optional, pkcs11 required)',
      parseInteger(1, 10),
    )
    .option('--threshold <t>', 'shares needed to unseal (1-10), with --shares', parseInteger(1, 10))
    .option(
      '--config <file>',
      "the server's config file: its storage, and its seal for --to keyvault or pkcs11",
    )
    .option('--data-dir <dir>', "the server's data dir (SQLite; stop the server first)");
  addOutputOption(command).action(async (_options: unknown, self: Command) => {
    const flags = self.opts<{
      to: 'shamir' | 'keyvault' | 'pkcs11';
      shares?: number;
      threshold?: number;
      config?: string;
      dataDir?: string;
    }>();
    if (flags.to === 'shamir' && (flags.shares === undefined || flags.threshold === undefined))
      throw new CliError('--to shamir needs --shares and --threshold.');
    const tools = await loadTools();
    const result = await failingClearly('seal migration', () =>
      tools.migrateSealOffline({
        to: flags.to,
        shares: flags.shares,
        threshold: flags.threshold,
        configFile: flags.config,
        dataDir: flags.dataDir,
        readShares: (count) =>
          readSecretLines(count, (index) => `Share ${index + 1} of ${count} of the current seal (hidden): `),
      }),
    );
    printResult(outputFormat(self), result, () => renderSealResult(result));
  });
}

function renderSealResult(result: { sealType: string; shares: string[] }): string {
  const lines = [renderProperties([['Seal', result.sealType]])];
  if (result.shares.length > 0) {
    lines.push(
      renderProperties(result.shares.map((share, index) => [`Unseal share ${index + 1}`, share] as const)),
    );
    lines.push('WARNING: these shares are shown once. The old shares no longer unseal this installation.');
  }
  if (result.sealType !== 'shamir') {
    lines.push(`Nodes now unseal themselves with the ${result.sealType} key when they start.`);
  }
  return `${lines.join('\n')}\nRunning nodes keep serving; each restarted node uses the new seal.\n`;
}

async function failingClearly<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${what} failed: ${sentence(error instanceof Error ? error.message : String(error))}`);
  }
}

/** On a terminal, one line redrawn; otherwise a line every tenth, so logs stay short. */
function progressBar(): (phase: 'copy' | 'verify', done: number, total: number) => void {
  let lastTenth = -1;
  return (phase, done, total) => {
    const fraction = total === 0 ? 1 : done / total;
    const label = `${phase === 'copy' ? 'copying  ' : 'verifying'} ${done}/${total}`;
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${label}`);
      if (done === total) process.stderr.write('\n');
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth !== lastTenth || done === total)
      process.stderr.write(`${label} (${Math.round(fraction * 100)}%)\n`);
    lastTenth = tenth;
  };
}
