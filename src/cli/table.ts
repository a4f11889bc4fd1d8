/**
 * Plain-text tables for people, in the style of `az --output table`: a header, a rule of dashes,
 * then one aligned line per row. Machines use `--output json`, so nothing here needs to parse.
 */

const GAP = '  ';

/** Rows as aligned columns under a header; every line ends with a newline, none with spaces. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  const cells = rows.map((row) => headers.map((_, column) => cellText(row[column])));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)),
  );
  const lines = [headers, widths.map((width) => '-'.repeat(width)), ...cells].map((line) =>
    line
      .map((text, column) => text.padEnd(widths[column] ?? 0))
      .join(GAP)
      .trimEnd(),
  );
  return lines.join('\n') + '\n';
}

/** One object as label/value lines, for `show`-style answers that would be too wide as a row. */
export function renderProperties(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  return pairs
    .map(([label, value]) => `${label.padEnd(width)}${GAP}${cellText(value)}`.trimEnd() + '\n')
    .join('');
}

/** How one value shows in a cell: never across lines, empty for missing values. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\s*[\r\n]+\s*/g, ' ');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return value.map(cellText).join(', ');
  return JSON.stringify(value);
}
