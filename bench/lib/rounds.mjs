// What the interleaved-rounds benchmarks (audit.mjs, workers.mjs) share: medians of a figure's
// rounds, the raw results file, and the README section between a benchmark's marker comments.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { URL, fileURLToPath } from 'node:url';
import { writeReadmeTables } from './markdown.mjs';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The middle value (the upper one of an even count: a figure that was measured). */
export const median = (numbers) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)];

/** The medians of one figure's rounds (measure.mjs results). */
export function summarise(list) {
  const of = (field) => median(list.map((m) => m[field]));
  return {
    rps: of('rps'),
    p50Ms: of('p50Ms'),
    p99Ms: of('p99Ms'),
    cpuSecondsPer1000: of('cpuSecondsPer1000'),
    serverCpuShare: of('serverCpuShare'),
    loadgenCpuShare: of('loadgenCpuShare'),
  };
}

/**
 * Writes bench/results/{prefix}-{date}.json: the run's date and machine, then `facts` (settings,
 * summary, every round). Returns the file's name and the date, for the table's caption.
 */
export function writeResults(prefix, facts) {
  const date = new Date().toISOString();
  const doc = { date, node: process.version, cpus: os.cpus().length, ...facts };
  const dir = path.join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const file = `${prefix}-${date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(path.join(dir, file), `${JSON.stringify(doc, null, 2)}\n`);
  return { file, date };
}

/** Replaces bench/README.md's `<!-- bench:{name}:begin -->` ... `end` section with `table`. */
export function writeReadmeSection(name, table) {
  writeReadmeTables(path.join(BENCH_DIR, 'README.md'), `\n${table}\n`, {
    BEGIN: `<!-- bench:${name}:begin -->`,
    END: `<!-- bench:${name}:end -->`,
  });
}
