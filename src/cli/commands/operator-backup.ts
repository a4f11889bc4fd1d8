import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { BackupStreamTap } from '../backup-stream.js';
import { importBuilt } from '../built-module.js';
import { CliError, sentence } from '../errors.js';
import { addOutputOption, apiClientFor, outputFormat } from '../options.js';
import { type OutputSettings, printResult } from '../output.js';
import { createProgress } from '../progress.js';
import { readSecretLine } from '../prompt.js';
import { renderProperties } from '../table.js';
import { leaf } from './leaf.js';

/**
 * `coffer operator backup --out FILE` (online, from the running server), `coffer operator
 * backup verify FILE` and `coffer operator restore --from FILE --data-dir DIR` (offline: they
 * read the file on this machine, with the source's unseal shares or dev key). docs/backup.md.
 */

interface Offline {
  readBackupHeader(file: string): Promise<{ seal: { type: string; shares: number; threshold: number } }>;
  verifyBackupFile(file: string, material: Material, progress: Progress): Promise<Summary>;
  restoreBackupFile(file: string, dataDir: string, material: Material, progress: Progress): Promise<Summary>;
}
interface Material {
  shares?: string[];
  devKey?: Buffer;
}
type Progress = (done: number, total: number) => void;
interface Summary {
  records: number;
  createdAt: string;
  seal: { type: string; shares: number; threshold: number };
  terms: number[];
}

// Loaded on demand, as `coffer server` loads the server: the other commands never pay for it.
const OFFLINE_MODULE = new URL('../../backup/offline.js', import.meta.url).href;

const loadOffline = () =>
  importBuilt<Offline>(OFFLINE_MODULE, 'the backup tools', 'dist/src/backup/offline.js');

export function registerBackupCommands(operator: Command): void {
  const backup = leaf(
    operator,
    'backup',
    'back up the whole running installation to FILE (online; the file opens only with the unseal shares)',
    backupAction,
  ).option('--out <file>', 'where to write the backup (must not exist yet)');

  addOutputOption(
    backup
      .command('verify')
      .description(
        "check a backup end to end without restoring it (needs the source's unseal shares on stdin, or --dev-key)",
      )
      .argument('<file>', 'the backup file')
      .option(
        '--dev-key <file>',
        "a dev server's unseal key file (DIR/unseal.key), for a backup of a dev server",
      ),
  ).action(async (file: string, _options: unknown, command: Command) => {
    const offline = await loadOffline();
    const material = await unsealMaterial(offline, file, command.opts<{ devKey?: string }>().devKey);
    const progress = createProgress('Verifying');
    const summary = await offline.verifyBackupFile(file, material, progress.update).catch(offlineFailure);
    progress.finish();
    printResult(verifyFormat(command), { file: path.resolve(file), ...summary }, () =>
      renderSummary('The backup is intact', summary),
    );
  });

  addOutputOption(
    operator
      .command('restore')
      .description(
        'build a new installation in DIR from a backup; it starts sealed (offline, no server needed)',
      )
      .requiredOption('--from <file>', 'the backup file')
      .requiredOption('--data-dir <dir>', 'the new data dir: must not exist yet, or be empty')
      .option(
        '--dev-key <file>',
        "a dev server's unseal key file (DIR/unseal.key), for a backup of a dev server",
      ),
  ).action(async (_options: unknown, command: Command) => {
    const { from, dataDir, devKey } = command.opts<{ from: string; dataDir: string; devKey?: string }>();
    const offline = await loadOffline();
    const material = await unsealMaterial(offline, from, devKey);
    const progress = createProgress('Restoring');
    const summary = await offline
      .restoreBackupFile(from, dataDir, material, progress.update)
      .catch(offlineFailure);
    progress.finish();
    printResult(
      outputFormat(command),
      { dataDir: path.resolve(dataDir), ...summary },
      () =>
        renderSummary(`Restored into ${path.resolve(dataDir)}`, summary) +
        `\nNext: start \`coffer server\` on it; it starts sealed. Unseal it with the source's shares (a dev backup: \`coffer server --dev --data-dir ${dataDir}\`).\n`,
    );
  });
}

/** `backup` has --output too, and commander gives it the flag even after `verify`: take it from there. */
function verifyFormat(command: Command): OutputSettings {
  const parent = command.parent;
  return parent?.getOptionValueSource('output') === 'cli' ? outputFormat(parent) : outputFormat(command);
}

async function backupAction({ command }: { command: Command }): Promise<void> {
  const out = command.opts<{ out?: string }>().out;
  if (!out) throw new CliError('say where to write the backup with --out FILE.');
  const file = path.resolve(out);
  if (existsSync(file))
    throw new CliError(`${file} exists already: give --out a new file name (backups are never overwritten).`);
  const partial = `${file}.partial`;
  const incoming = await apiClientFor(command).stream('POST', '/coffer/operator/backup');
  const tap = new BackupStreamTap();
  const progress = createProgress('Backing up');
  const handle = openSync(partial, 'w', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      tap.push(chunk);
      writeSync(handle, chunk);
      bytes += chunk.length;
      if (tap.header) progress.update(tap.records, tap.header.records);
    }
    if (!tap.complete || tap.records !== tap.header?.records) {
      throw new CliError(
        'the server stopped sending before the backup was complete. Nothing was written; try again.',
      );
    }
    fsyncSync(handle);
  } catch (error) {
    closeSync(handle);
    rmSync(partial, { force: true });
    if (error instanceof CliError) throw error;
    throw new CliError(
      `the backup was interrupted (${sentence((error as Error).message)}) Nothing was written; try again.`,
    );
  } finally {
    progress.finish();
  }
  closeSync(handle);
  renameSync(partial, file);
  const result = {
    file,
    records: tap.records,
    bytes,
    createdAt: tap.header?.createdAt,
    seal: tap.header?.seal,
  };
  printResult(
    outputFormat(command),
    result,
    () =>
      renderProperties([
        ['Backup', file],
        ['Records', tap.records],
        ['Size (bytes)', bytes],
        ['Taken at', result.createdAt],
      ]) + '\nIt opens only with the unseal shares of this installation: keep them apart from the file.\n',
  );
}

/** The source's dev key from a file, or its unseal shares: a prompt per share on a terminal, else stdin lines. */
async function unsealMaterial(
  offline: Offline,
  file: string,
  devKeyFile: string | undefined,
): Promise<Material> {
  if (!existsSync(file)) throw new CliError(`${file} does not exist. Give the path of a backup file.`);
  if (devKeyFile !== undefined) {
    const devKey = Buffer.from(readFileSync(devKeyFile, 'utf8').trim(), 'base64');
    if (devKey.length !== 32)
      throw new CliError(`${devKeyFile} is not a dev unseal key (DIR/unseal.key of a dev server).`);
    return { devKey };
  }
  const header = await offline.readBackupHeader(file).catch(offlineFailure);
  if (header.seal.type === 'dev-key') {
    throw new CliError(
      'this backup comes from a dev server: give its unseal key with --dev-key DIR/unseal.key.',
    );
  }
  if (process.stdin.isTTY) {
    const shares: string[] = [];
    for (let i = 1; i <= header.seal.threshold; i++) {
      shares.push(await readSecretLine(`Unseal share ${i} of ${header.seal.threshold} (hidden): `));
    }
    return { shares };
  }
  return {
    shares: (await readAllStdin())
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean),
  };
}

async function readAllStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 64 * 1024)
      throw new CliError('standard input is too long for unseal shares: give one share per line.');
  }
  return text;
}

/** Offline failures carry a message for people (InvalidBackup, a non-empty dir): one line of it. */
function offlineFailure(error: unknown): never {
  if (error instanceof CliError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  throw new CliError(sentence(message));
}

function renderSummary(title: string, summary: Summary): string {
  return `${title}.\n${renderProperties([
    ['Records', summary.records],
    ['Taken at', summary.createdAt],
    ['Seal', `${summary.seal.type} (${summary.seal.threshold} of ${summary.seal.shares})`],
    ['Barrier key terms', summary.terms.join(', ')],
  ])}`;
}
