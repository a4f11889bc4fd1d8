import { colorJson, jsonText, tsvText, yamlText } from './output-formats.js';
import { applyQuery } from './query.js';
import { autoTable } from './table.js';

/**
 * Everything a command prints on success goes through here, in az's output formats: `json`
 * (stdout holds exactly one JSON document, or nothing for commands that answer nothing, so
 * scripts can parse it), `jsonc` (the same, coloured on a terminal), `tsv` and `yaml` for shell
 * scripts, `table` for people and `none`. `--query` (JMESPath) picks from the result first.
 */

export const OUTPUT_FORMATS = ['json', 'jsonc', 'table', 'tsv', 'yaml', 'none'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What `--output` and `--query` asked for. */
export interface OutputSettings {
  format: OutputFormat;
  /** A JMESPath expression, already checked to parse. */
  query?: string;
}

export function printText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/**
 * Prints `value` (after `--query`) in the chosen format. A table is the command's own `render`
 * unless a query reshaped the result; then, as az does, the table is built from the query's
 * answer, so `--query "[].{Name:name}" -o table` works everywhere.
 */
export function printResult(settings: OutputSettings, value: unknown, render: () => string): void {
  const result = settings.query === undefined ? value : applyQuery(settings.query, value);
  switch (settings.format) {
    case 'json':
      printText(jsonText(result));
      return;
    case 'jsonc':
      printText(process.stdout.isTTY && !process.env['NO_COLOR'] ? colorJson(result) : jsonText(result));
      return;
    case 'yaml':
      printText(yamlText(result));
      return;
    case 'tsv':
      process.stdout.write(tsvText(result));
      return;
    case 'table':
      printText(settings.query === undefined ? render() : autoTable(result));
      return;
    case 'none':
      return;
  }
}

/** For answers with no body (deletes): only the table format says anything, as `az` does. */
export function printDone(settings: OutputSettings, message: string): void {
  if (settings.format === 'table') printText(message);
}

/** A JSON object as a record, or an empty one, so renderers never crash on an odd answer. */
export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The items of a list answer `{value: [...]}`. */
export function listItems(value: unknown): Record<string, unknown>[] {
  const items = asRecord(value)['value'];
  return Array.isArray(items) ? items.map(asRecord) : [];
}
