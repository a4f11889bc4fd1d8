/**
 * A strict reader of Prometheus's text exposition format (version 0.0.4), for tests: every line
 * must be a HELP, a TYPE or a sample of a declared metric, or it throws, so a malformed scrape
 * fails the test that made it.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name whose labels include `labels`; undefined if none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample with this name whose labels include `labels`. */
  find(name: string, labels?: Record<string, string>): Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count', ''],
};

export function parsePrometheus(text: string): Scrape {
  if (!text.endsWith('\n')) throw new Error('a scrape ends with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1}: ${line.slice(0, 120)}`;
      if (line === '') return;
      if (line.startsWith('# HELP ')) {
        if (!NAME.test(line.slice(7).split(' ')[0]!)) throw new Error(`bad HELP, ${where}`);
        return;
      }
      if (line.startsWith('# TYPE ')) {
        const [name, type, extra] = line.slice(7).split(' ');
        if (
          !NAME.test(name ?? '') ||
          !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!) ||
          extra
        )
          throw new Error(`bad TYPE, ${where}`);
        if (types.has(name!)) throw new Error(`metric declared twice, ${where}`);
        types.set(name!, type!);
        return;
      }
      if (line.startsWith('#')) throw new Error(`unexpected comment, ${where}`);
      const sample = parseSample(line, where);
      if (!declared(types, sample.name)) throw new Error(`sample of an undeclared metric, ${where}`);
      samples.push(sample);
    });
  const matches = (sample: Sample, name: string, labels: Record<string, string>) =>
    sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((sample) => matches(sample, name, labels));
  return {
    types,
    samples,
    find,
    value(name, labels = {}) {
      const found = find(name, labels);
      if (found.length > 1)
        throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}

function declared(types: Map<string, string>, name: string): boolean {
  if (types.has(name)) return true;
  for (const [base, type] of types)
    if ((SUFFIXES[type] ?? []).some((suffix) => suffix && name === base + suffix)) return true;
  return false;
}

function parseSample(line: string, where: string): Sample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`bad sample, ${where}`);
  const name = line.slice(0, nameEnd);
  if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
  const labels: Record<string, string> = {};
  let at = nameEnd;
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const match = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
      if (!match) throw new Error(`bad label, ${where}`);
      at += match[0].length;
      let value = '';
      for (;;) {
        const char = line[at++];
        if (char === undefined) throw new Error(`unterminated label value, ${where}`);
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[at++];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else throw new Error(`bad escape in a label value, ${where}`);
        } else value += char;
      }
      if (match[1]! in labels) throw new Error(`label given twice, ${where}`);
      labels[match[1]!] = value;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`bad label list, ${where}`);
    }
    at++;
  }
  const rest = line.slice(at).trim().split(' ');
  if (line[at] !== ' ' || rest.length > 2) throw new Error(`bad sample value, ${where}`);
  const text = rest[0]!;
  // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client writes `Nan`).
  const value = /^nan$/i.test(text)
    ? NaN
    : /^[+-]?inf$/i.test(text)
      ? text.startsWith('-')
        ? -Infinity
        : Infinity
      : Number(text);
  if (text === '' || (Number.isNaN(value) && !/^nan$/i.test(text)))
    throw new Error(`bad sample value, ${where}`);
  return { name, labels, value };
}
