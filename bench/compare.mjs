// `node bench/compare.mjs --base DIST [--scenarios a,b] [--concurrency 1,32] [--duration 8]
//  [--rounds 2] [--env K=V,K=V] [--label text]`: the same scenarios against two builds of Coffer
// in one run, rounds interleaved (base, this build, base, ...), so that the shared machine's
// drift hits both alike. DIST is another compilation's dist/ (e.g. of main: `git archive main |
// tar x -C /tmp/base && cd /tmp/base && ln -s $PWD/node_modules && npx tsc`). Prints medians of
// server CPU per 1,000 requests and req/s, and their ratios (this build / base).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { measure } from './lib/measure.mjs';
import { prepareFixtures, scenarioTargets } from './lib/scenarios.mjs';
import { createBenchToken } from './lib/softhsm.mjs';
import { hasWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    scenarios: { type: 'string', default: 'secret-get' },
    concurrency: { type: 'string', default: '1,32' },
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    env: { type: 'string', default: '' },
    label: { type: 'string', default: '' },
  },
});
if (!values.base) throw new Error('--base DIST is required');
const scenarios = values.scenarios.split(',');
const concurrencies = values.concurrency.split(',').map(Number);
const env = Object.fromEntries(
  values.env
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const loadgen = hasWrk() ? 'wrk' : 'node';
const work = mkdtempSync(path.join(os.tmpdir(), 'coffer-compare-'));
const builds = { base: path.resolve(values.base), this: undefined };
const runs = {};
const log = (line) => process.stderr.write(`[compare] ${line}\n`);

async function measureBuild(name, dist, round) {
  const dir = path.join(work, `${name}-${round}`);
  const server = await startCoffer({
    dataDir: path.join(dir, 'data'),
    port: 30000 + Math.floor(Math.random() * 20000),
    env: { ...createBenchToken(dir), ...env },
    dist: dist ?? '',
  });
  try {
    const token = await fetchToken(server);
    const { fixtures } = await prepareFixtures(server, token);
    for (const c of concurrencies) {
      for (const scenario of scenarios) {
        const target = scenarioTargets(server, token, fixtures, `${name}${round}c${c}`)[scenario];
        const options = { connections: c, loadgen, serverPid: server.pid };
        await measure(target, { ...options, durationS: 1 }); // warm-up
        const m = await measure(target, { ...options, durationS: Number(values.duration) });
        const key = `${scenario} c=${c}`;
        (runs[key] ??= { base: [], this: [] })[name].push(m);
        log(
          `round ${round} ${name} ${key}: ${m.rps} req/s, ${m.cpuSecondsPer1000} s CPU/1k, errors ${m.errors}`,
        );
      }
    }
  } finally {
    await server.stop();
  }
}

try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [name, dist] of Object.entries(builds)) await measureBuild(name, dist, round);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const value = sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
  return Math.round(value * 10000) / 10000;
};
const pct = (a, b) => `${Math.round((a / b) * 100)}%`;
console.log(
  `\n${values.label || 'this build against base'} (${values.env || 'default config'}), medians of ${values.rounds} rounds, ${values.duration} s each:\n`,
);
console.log('| scenario | base req/s | req/s | ratio | base CPU s/1k | CPU s/1k | ratio |');
console.log('| -------- | ---------: | ----: | ----: | ------------: | -------: | ----: |');
for (const [key, { base, this: mine }] of Object.entries(runs)) {
  const [br, r] = [median(base.map((m) => m.rps)), median(mine.map((m) => m.rps))];
  const [bc, c] = [
    median(base.map((m) => m.cpuSecondsPer1000)),
    median(mine.map((m) => m.cpuSecondsPer1000)),
  ];
  console.log(`| ${key} | ${br} | ${r} | ${pct(r, br)} | ${bc} | ${c} | ${pct(c, bc)} |`);
}
