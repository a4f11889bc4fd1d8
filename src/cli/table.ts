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

/** Keys az's automatic table leaves out: long identifiers that would push the rest off screen. */
const AUTO_TABLE_SKIPPED = new Set(['id', 'type', 'etag']);

/**
 * The table az builds when no command-specific one applies (after `--query`): one column per
 * scalar field, the name's first letter capitalised, nested objects and lists left out; a list of
 * scalars is one `Result` column.
 */
export function autoTable(value: unknown): string {
  const items = Array.isArray(value) ? value : [value];
  const rows = items.map(autoTableRow);
  const headers: string[] = [];
  for (const row of rows)
    for (const header of row.keys()) if (!headers.includes(header)) headers.push(header);
  if (headers.length === 0) return '';
  return renderTable(
    headers,
    rows.map((row) => headers.map((header) => row.get(header))),
  );
}

function autoTableRow(item: unknown): Map<string, unknown> {
  const row = new Map<string, unknown>();
  if (Array.isArray(item)) {
    item.forEach((cell, index) => row.set(`Column${index + 1}`, cell));
  } else if (typeof item === 'object' && item !== null) {
    for (const [key, cell] of Object.entries(item)) {
      if (AUTO_TABLE_SKIPPED.has(key) || cell === null || typeof cell === 'object') continue;
      row.set(key.charAt(0).toUpperCase() + key.slice(1), cell);
    }
  } else if (item !== null && item !== undefined) {
    row.set('Result', item);
  }
  return row;
}
