import { stringify as yamlStringify } from 'yaml';

/**
 * az's machine formats (knack's output.py), so scripts written for `az keyvault` read Coffer's
 * output the same way: JSON with sorted keys, YAML with sorted keys, and TSV where an object's
 * values are tab-separated in key order (a nested list shows as its length, a nested object as
 * an empty cell) and a list prints one line per item.
 */

/** Object keys sorted at every level, as az's `json.dumps(..., sort_keys=True)`. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sortedKeys(record[key])]),
  );
}

export function jsonText(value: unknown): string {
  return JSON.stringify(sortedKeys(value) ?? null, null, 2);
}

export function yamlText(value: unknown): string {
  return yamlStringify(value ?? null, { sortMapEntries: true });
}

const COLORS = { key: '\x1b[94m', string: '\x1b[33m', literal: '\x1b[36m', reset: '\x1b[0m' };

/** `--output jsonc`: the JSON text with keys, strings and literals coloured for a terminal. */
export function colorJson(value: unknown): string {
  return jsonText(value).replace(
    /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (match, quoted: string | undefined, colon: string | undefined) => {
      if (quoted !== undefined) {
        const color = colon === undefined ? COLORS.string : COLORS.key;
        return `${color}${quoted}${COLORS.reset}${colon ?? ''}`;
      }
      return `${COLORS.literal}${match}${COLORS.reset}`;
    },
  );
}

export function tsvText(value: unknown): string {
  const rows = Array.isArray(value) ? value : [value];
  return rows.map((row) => tsvRow(row) + '\n').join('');
}

function tsvRow(row: unknown): string {
  if (Array.isArray(row)) return row.map(tsvCell).join('\t');
  if (typeof row === 'object' && row !== null) {
    const record = row as Record<string, unknown>;
    return Object.keys(record)
      .sort()
      .map((key) => tsvCell(record[key]))
      .join('\t');
  }
  if (typeof row === 'boolean') return String(row);
  return tsvCell(row);
}

/** A value inside a row: az (Python) writes a missing value as None and booleans capitalised. */
function tsvCell(value: unknown): string {
  if (Array.isArray(value)) return String(value.length);
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'object') return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}
