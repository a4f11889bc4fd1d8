import fc from 'fast-check';

/**
 * JSON text that no JavaScript value serialises to (`1e999`, deep nesting, duplicate keys):
 * `jsonText` writes it verbatim where it sits in a body.
 */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `RawJson(${this.text.length > 40 ? `${this.text.slice(0, 40)}...` : this.text})`;
  }
}

export type Json = null | boolean | number | string | RawJson | Json[] | { [key: string]: Json };

/** JSON text of a value that may hold RawJson pieces; `__proto__` keys are written as given. */
export function jsonText(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/**
 * URL text for any string: its UTF-8 bytes percent-encoded (a lone surrogate becomes U+FFFD,
 * where encodeURIComponent would throw); malformed escapes are sent as constants instead.
 */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** Keys that poison prototypes or break naive String(): each must be a 4xx, never a crash. */
export const POISON_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'toJSON',
  'hasOwnProperty',
];

const deep = (depth: number, open: string, close: string) =>
  new RawJson(open.repeat(depth) + 'null' + close.repeat(depth));

/** Strings with a reputation: empty, huge, control characters, lone surrogates, injections, look-alikes. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 128, max: 400_000 }).map((length) => 'x'.repeat(length)),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\r\n',
      '\ud800',
      '\udfff\ud800',
      '\u202e',
      '\ufeff',
      '\u00e9',
      '\u{1f600}',
      '..',
      '../../etc/passwd',
      '%00',
      '%2e%2e%2f',
      'null',
      'undefined',
      'NaN',
      '-0',
      '1e999',
      'true',
      '[]',
      '{}',
      '__proto__',
      'constructor',
      '${7*7}',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      'a'.repeat(127),
      'a'.repeat(128),
      'https://evil.example/',
      'P1Y',
      'PT0S',
      'P-1D',
      '2038-01-19T03:14:08Z',
      '0000-00-00',
      'A256GCM',
      'RSA-OAEP-256',
      'ES256K',
      'P-521',
      'oct-HSM',
      'AAAA',
      '====',
      '-_-_',
      'Bearer',
      '*',
      'Microsoft.KeyVault/vaults/*',
    ),
  },
);

/** Numbers at the edges of every integer type and date range the API has. */
export const nastyNumber: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    0,
    -1,
    1,
    -0,
    0.5,
    127,
    128,
    255,
    256,
    1023,
    1024,
    4096,
    16384,
    65537,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    1e21,
    1e308,
    -1e308,
    5e-324,
    253402300799,
    253402300800,
    -62135596800,
    -62135596801,
    new RawJson('1e999'),
    new RawJson('-1e999'),
    new RawJson('123456789012345678901234567890'),
    new RawJson('1.0'),
    new RawJson('-0.0'),
    new RawJson('0e0'),
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A value of any JSON type, mostly awkward ones, for the place of any field. */
export const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom<Json>(true, false, null, [], {}, [null], [[]], { '': '' }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...POISON_KEYS), fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>)
      .map(([key, inner]) => new RawJson(`{${JSON.stringify(key)}:${jsonText(inner)}}`)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 10, max: 20_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}']))
      .map(([depth, [open, close]]) => deep(depth, open!, close!)),
  },
  { weight: 1, arbitrary: fc.array(nastyStringShort(), { maxLength: 200 }) },
);

function nastyStringShort(): fc.Arbitrary<Json> {
  return fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('get', 'GET', 'all', '*', ''));
}

/** A key to add to an object: a poison key, a random one, or a look-alike of a real one. */
const extraKey = (existing: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...POISON_KEYS),
    fc.string({ maxLength: 12 }),
    existing.length === 0
      ? fc.constant('value')
      : fc.constantFrom(...existing).chain((key) =>
          fc.constantFrom(
            key.toUpperCase(),
            key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
            key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
            `${key} `,
            `${key}\u0000`,
          ),
        ),
  );

type Path = Array<string | number>;

function pathsOf(value: Json, prefix: Path = []): Path[] {
  const here = [prefix];
  if (value instanceof RawJson || value === null || typeof value !== 'object') return here;
  const entries: Array<[string | number, Json]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return here.concat(...entries.map(([key, item]) => pathsOf(item, [...prefix, key])));
}

function keysAt(value: Json, path: Path): string[] {
  const node = get(value, path);
  return node !== null && typeof node === 'object' && !Array.isArray(node) && !(node instanceof RawJson)
    ? Object.keys(node)
    : [];
}

function get(value: Json, path: Path): Json {
  let node: Json = value;
  for (const step of path) node = (node as Record<string | number, Json>)[step] ?? null;
  return node;
}

/** A copy of `value` with `path` replaced by `replacement`, or removed when `replacement` is undefined. */
function setAt(value: Json, path: Path, replacement: Json | undefined): Json | undefined {
  if (path.length === 0) return replacement;
  const [step, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const inner = setAt(copy[step as number] ?? null, rest, replacement);
    if (inner === undefined) copy.splice(step as number, 1);
    else copy[step as number] = inner;
    return copy;
  }
  const copy: Record<string, Json> = {};
  for (const [key, item] of Object.entries(value as Record<string, Json>)) {
    if (key !== step) {
      copy[key] = item;
      continue;
    }
    const inner = setAt(item, rest, replacement);
    if (inner !== undefined) copy[key] = inner;
  }
  return copy;
}

function addKey(value: Json, path: Path, key: string, item: Json): Json {
  const node = get(value, path);
  if (node === null || typeof node !== 'object' || Array.isArray(node) || node instanceof RawJson)
    return value;
  // defineProperty: a `__proto__` key must become a field of the body, not its prototype.
  const copy: Record<string, Json> = { ...node };
  Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
  return setAt(value, path, copy) ?? value;
}

interface Mutation {
  op: 'replace' | 'remove' | 'add' | 'wrap';
  at: number;
  value: Json;
  key: string;
}

const mutation = (seed: Json): fc.Arbitrary<Mutation> => {
  const keys = pathsOf(seed).flatMap((path) => keysAt(seed, path));
  return fc.record({
    op: fc.constantFrom('replace', 'replace', 'replace', 'remove', 'add', 'wrap'),
    at: fc.nat(),
    value: nastyValue,
    key: extraKey(keys),
  });
};

function apply(body: Json, change: Mutation): Json {
  const paths = pathsOf(body);
  const path = paths[change.at % paths.length]!;
  switch (change.op) {
    case 'replace':
      return setAt(body, path, change.value) ?? null;
    case 'remove':
      return path.length === 0 ? body : (setAt(body, path, undefined) ?? null);
    case 'add':
      return addKey(body, path, change.key, change.value);
    case 'wrap':
      return setAt(body, path, [get(body, path)]) ?? null;
  }
}

/** A valid body with one to three fields changed, removed, added or wrapped. */
export function mutated(seed: Json): fc.Arbitrary<Json> {
  return fc
    .array(mutation(seed), { minLength: 1, maxLength: 3 })
    .map((changes) => changes.reduce(apply, seed));
}
