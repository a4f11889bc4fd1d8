import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { readInputFile } from '../files.js';
import { outputFormat } from '../options.js';
import { printResult } from '../output.js';
import { forEachWithProgress, startProgress } from '../progress.js';
import { failureSummary } from './bulk-failures.js';
import { dataLeaf, vaultTarget } from './data-plane.js';
import { renderTable } from '../table.js';

/**
 * `coffer secret import-file`: many secrets from a .env or JSON file in one command, with a
 * progress bar. Key Vault names allow only letters, digits and hyphens, so `DB_PASSWORD` from a
 * .env file becomes `DB-PASSWORD` (as Azure's App Service references spell them).
 */

const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export function registerSecretImport(secret: Command): void {
  dataLeaf(
    secret,
    'import-file',
    'set many secrets from a .env or JSON file, with progress',
    async ({ command }) => {
      const options = command.opts<{
        file: string;
        format?: 'env' | 'json';
        contentType?: string;
        onlyShowErrors?: boolean;
      }>();
      const text = readInputFile(options.file, '--file').toString('utf8');
      const format = options.format ?? (options.file.endsWith('.json') ? 'json' : 'env');
      const entries =
        format === 'json' ? parseJsonSecrets(text, options.file) : parseEnvSecrets(text, options.file);
      const client = vaultTarget(command);
      const progress = startProgress('import', entries.length, { quiet: options.onlyShowErrors === true });
      const failures = await forEachWithProgress(
        entries,
        ([name]) => name,
        async ([name, value]) => {
          const body: Record<string, unknown> = { value };
          if (options.contentType !== undefined) body['contentType'] = options.contentType;
          await client.call('PUT', `/secrets/${encodeURIComponent(name)}`, body);
        },
        progress,
      );
      progress.finish(
        `Imported ${entries.length - failures.length} of ${entries.length} secrets into ${client.vaultName}.`,
      );
      if (failures.length > 0)
        throw failureSummary(
          failures.map(({ item, error }) => ({ name: item[0], error })),
          entries.length,
          'be imported',
        );
      const names = entries.map(([name]) => ({ name }));
      printResult(outputFormat(command), names, () =>
        renderTable(
          ['Name'],
          names.map(({ name }) => [name]),
        ),
      );
    },
  )
    .requiredOption('-f, --file <path>', '.env (NAME=value lines) or .json ({"name": "value"})')
    .option('--format <format>', 'env or json (default: from the file name)')
    .option('--content-type <type>', 'content type for every secret')
    .option('--only-show-errors', 'no progress output');
}

function checkedName(raw: string, file: string, line?: number): string {
  const name = raw.trim().replace(/_/g, '-');
  if (!SECRET_NAME.test(name)) {
    const where = line === undefined ? file : `${file}:${line}`;
    throw new CliError(
      `${where}: '${raw}' cannot be a secret name (letters, digits, hyphens, up to 127). Rename it; nothing was imported.`,
    );
  }
  return name;
}

export function parseEnvSecrets(text: string, file: string): [string, string][] {
  const entries: [string, string][] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (match === null)
      throw new CliError(`${file}:${index + 1} is not NAME=value. Fix the line; nothing was imported.`);
    let value = match[2] ?? '';
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    entries.push([checkedName(match[1] ?? '', file, index + 1), value]);
  });
  return entries;
}

export function parseJsonSecrets(text: string, file: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not JSON. Write {"name": "value", ...}, or pass --format env.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CliError(`${file} must hold one JSON object {"name": "value", ...}.`);
  return Object.entries(parsed).map(([name, value]) => {
    if (typeof value !== 'string')
      throw new CliError(`${file}: the value of '${name}' is not a string. Quote it.`);
    return [checkedName(name, file), value];
  });
}
