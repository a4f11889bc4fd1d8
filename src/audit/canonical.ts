/**
 * The canonical form of a record: RFC 8785 (JSON Canonicalization Scheme) for the values a
 * record holds (strings, integers, booleans, null, arrays, objects): object members sorted by
 * their names' UTF-16 code units, no insignificant whitespace, strings and numbers as
 * ECMAScript's JSON.stringify writes them. Hashes and signatures are taken over this form, and
 * each line of the log is the canonical form of its whole record, so any verifier that parses a
 * line and canonicalises it again gets the same bytes.
 */
export function canonicalJson(value: unknown): string {
  // A value whose members are already in order is its own canonical form: the native
  // serializer writes it (records are built in order, and lines parse back in order).
  return inCanonicalOrder(value) ? JSON.stringify(value) : sortedJson(value);
}

/**
 * `value` itself when JSON.stringify already writes it canonically, else a copy that it writes
 * canonically (members sorted, undefined members left out); throws for what a record cannot hold.
 */
export function canonicalCopy(value: unknown): unknown {
  if (inCanonicalOrder(value)) return value;
  if (value === null || typeof value !== 'object') {
    scalar(value);
    return value;
  }
  if (Array.isArray(value)) return value.map(canonicalCopy);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) copy[key] = canonicalCopy(item);
  }
  return copy;
}

/** The members of an object in canonical order, each as `"name":value`. */
export function canonicalMembers(value: Record<string, unknown>): string[] {
  return Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
}

function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return scalar(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${canonicalMembers(value as Record<string, unknown>).join(',')}}`;
}

function scalar(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('not a finite number');
  if (
    value === undefined ||
    typeof value === 'function' ||
    typeof value === 'bigint' ||
    typeof value === 'symbol'
  )
    throw new TypeError(`a record cannot hold ${typeof value}`);
  return JSON.stringify(value);
}

/** Whether JSON.stringify would already write `value` canonically (and nothing it cannot hold is in it). */
function inCanonicalOrder(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) return value.every((item) => item !== undefined && inCanonicalOrder(item));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return false;
  let previous: string | undefined;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) return false;
    if (previous !== undefined && !(previous < key)) return false;
    if (!inCanonicalOrder(item)) return false;
    previous = key;
  }
  return true;
}
