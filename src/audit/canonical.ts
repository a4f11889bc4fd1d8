/**
 * The canonical form of a record: RFC 8785 (JSON Canonicalization Scheme) for the values a
 * record holds (strings, integers, booleans, null, arrays, objects): object members sorted by
 * their names' UTF-16 code units, no insignificant whitespace, strings and numbers as
 * ECMAScript's JSON.stringify writes them. Hashes and signatures are taken over this form, and
 * each line of the log is the canonical form of its whole record, so any verifier that parses a
 * line and canonicalises it again gets the same bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('not a finite number');
    if (value === undefined || typeof value === 'function' || typeof value === 'bigint')
      throw new TypeError(`a record cannot hold ${typeof value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}
