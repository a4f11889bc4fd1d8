/**
 * Everything a command prints on success goes through here: with `--output json` stdout holds
 * exactly one JSON document (or nothing, for commands that answer nothing), so scripts can
 * parse it; with `--output table` it holds text for people.
 */

export const OUTPUT_FORMATS = ['json', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Prints `value` as JSON, or the table `render` makes from it. */
export function printResult(format: OutputFormat, value: unknown, render: () => string): void {
  if (format === 'json') printJson(value);
  else printText(render());
}

/** For answers with no body (deletes): JSON mode prints nothing, as `az` does. */
export function printDone(format: OutputFormat, message: string): void {
  if (format === 'table') printText(message);
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
