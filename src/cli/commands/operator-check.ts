import path from 'node:path';
import type { Command } from 'commander';
import type { StoreCheckReport } from '../../core/store-check.js';
import { createProgressDisplay } from '../progress.js';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat } from '../options.js';
import { printResult } from '../output.js';
import { renderProperties } from '../table.js';
import { type Action, leaf } from './leaf.js';

/**
 * `coffer operator check`: online (the running server checks its own store: SQLite's
 * integrity_check, then every record decrypted) with progress on stderr, or offline
 * (`--data-dir`, the server stopped: SQLite's integrity_check only, since records need the keys
 * a running, unsealed server holds). Exits non-zero when anything is damaged.
 */
export function registerCheckCommand(operator: Command): void {
  leaf(operator, 'check', 'check the whole store: SQLite integrity and every record', checkAction).option(
    '--data-dir <dir>',
    "check a stopped server's data dir offline (SQLite integrity only)",
  );
}

const POLL_MS = 300;

const checkAction: Action = async ({ command }) => {
  const dataDir = command.opts<{ dataDir?: string }>().dataDir;
  const report = dataDir ? await offlineReport(dataDir) : await onlineReport(command);
  printResult(outputFormat(command), report, () => renderReport(report));
  if (!report.ok) {
    throw new CliError(
      report.error
        ? `the check stopped (${report.error}). See the server's log, then run it again.`
        : 'the store is damaged. Stop the server, keep the damaged files, and restore the data dir from a backup (docs/fault-tolerance.md, "Restoring from a backup").',
    );
  }
};

async function onlineReport(command: Command): Promise<StoreCheckReport> {
  const api = apiClientFor(command);
  let report = (await api.call('POST', '/coffer/operator/check')) as StoreCheckReport;
  const progress = progressPrinter();
  while (report.state === 'running') {
    progress(report);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    report = (await api.call('GET', '/coffer/operator/check')) as StoreCheckReport;
  }
  progress(report);
  return report;
}

async function offlineReport(dataDir: string): Promise<StoreCheckReport> {
  // Loaded only here: every other command is an HTTPS client and never opens a data file.
  const { checkStoppedDataFile } = await import('../../storage/sqlite/file-check.js');
  const startedAt = new Date().toISOString();
  let file;
  try {
    file = checkStoppedDataFile(path.join(path.resolve(dataDir), 'coffer.db'));
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  return {
    id: 'offline',
    state: 'done',
    phase: 'done',
    startedAt,
    finishedAt: new Date().toISOString(),
    file,
    records: { total: 0, checked: 0, failed: [] },
    ok: file.ok,
  };
}

/** The check's phases and records, drawn by the CLI's one progress display. */
function progressPrinter(): (report: StoreCheckReport) => void {
  const display = createProgressDisplay('Checking records', { plain: 'tenth', unit: 'records' });
  return (report) => {
    if (report.phase === 'file') display.phase('Checking the SQLite file (integrity_check)...');
    else display.update(report.records.checked, report.records.total);
    if (report.state !== 'running') display.finish();
  };
}

function renderReport(report: StoreCheckReport): string {
  const file = report.file;
  const lines = [
    renderProperties([
      ['SQLite integrity', file ? (file.ok ? 'ok' : `${file.problems.length} problem(s)`) : 'not checked'],
      [
        'Records checked',
        report.id === 'offline' ? 'not checked offline (needs the unsealed server)' : report.records.checked,
      ],
      ['Records failing', report.records.failed.length],
      ['Result', report.ok ? 'intact' : report.error ? `stopped: ${report.error}` : 'DAMAGED'],
    ]),
  ];
  for (const problem of file?.problems ?? []) lines.push(`SQLite: ${problem}\n`);
  for (const failed of report.records.failed) lines.push(`Record failing its integrity check: ${failed}\n`);
  return lines.join('');
}
