// `node bench/audit.mjs [--duration 10] [--rounds 3] [--no-readme]`: what the audit log costs.
// The secret-get scenario of `npm run bench` (same fixtures, same load generator) against five
// servers: audit log off; on with no sink but the query index (spool + chain + index); on as
// shipped (plus the file sink; audit.fsync `changes`: a read's record is written before its
// answer and synced within 50 ms); and as shipped with audit.fsync `always` (every answer waits
// for its record's sync) and `never`. Rounds interleave them
// so that the machine's drift hits them alike; the medians and their ratios go to
// results/audit-*.json and README.md.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { measure } from './lib/measure.mjs';
import { prepareFixtures, scenarioTargets } from './lib/scenarios.mjs';
import { createBenchToken } from './lib/softhsm.mjs';
import { summarise, writeReadmeSection, writeResults } from './lib/rounds.mjs';
import { hasWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,32' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const durationS = Number(values.duration);
const rounds = Number(values.rounds);
const concurrencies = values.concurrency.split(',').map(Number);
const loadgen = hasWrk() ? 'wrk' : 'node';

const CONFIGS = {
  off: { COFFER_AUDIT_ENABLED: 'false' },
  'spool+index': { COFFER_AUDIT_SINKS: '[]' },
  'file sink': {},
  'file sink, fsync always': { COFFER_AUDIT_FSYNC: 'always' },
  'file sink, fsync never': { COFFER_AUDIT_FSYNC: 'never' },
};

const log = (line) => process.stderr.write(`[audit bench] ${line}\n`);
const work = mkdtempSync(path.join(os.tmpdir(), 'coffer-audit-bench-'));
const port = 30000 + Math.floor(Math.random() * 20000);
const runs = Object.fromEntries(
  Object.keys(CONFIGS).map((name) => [name, Object.fromEntries(concurrencies.map((c) => [c, []]))]),
);

try {
  for (let round = 1; round <= rounds; round++) {
    for (const [name, env] of Object.entries(CONFIGS)) {
      const server = await startCoffer({
        dataDir: path.join(work, `${name}-${round}`.replace(/\W/g, '-')),
        port,
        env: { ...createBenchToken(path.join(work, `hsm-${name}-${round}`.replace(/\W/g, '-'))), ...env },
      });
      try {
        const token = await fetchToken(server);
        const { fixtures } = await prepareFixtures(server, token);
        for (const c of concurrencies) {
          const target = scenarioTargets(server, token, fixtures, `a${round}`)['secret-get'];
          const m = await measure(target, { connections: c, durationS, loadgen, serverPid: server.pid });
          if (m.errors > 0) throw new Error(`${name} c=${c}: ${m.errors} errors`);
          runs[name][c].push(m);
          log(
            `round ${round} ${name} c=${c}: ${m.rps} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, ${m.cpuSecondsPer1000} s CPU/1k`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const summary = Object.fromEntries(
  Object.entries(runs).map(([name, byC]) => [
    name,
    Object.fromEntries(Object.entries(byC).map(([c, list]) => [c, summarise(list)])),
  ]),
);
const { file, date } = writeResults('audit', { durationS, rounds, loadgen, summary, runs });

const rows = concurrencies.flatMap((c) =>
  Object.keys(CONFIGS).map((name) => {
    const s = summary[name][c];
    const ratio = (s.rps / summary.off[c].rps) * 100;
    return `| secret-get | ${c} | ${name} | ${s.rps} | ${s.p50Ms} | ${s.p99Ms} | ${s.cpuSecondsPer1000} | ${ratio.toFixed(0)}% |`;
  }),
);
const table = [
  `Run of ${date}, Node ${process.version}, ${os.cpus().length} CPUs, \`${loadgen}\`, ${durationS} s per figure, median of ${rounds} interleaved rounds; raw data \`results/${file}\`.`,
  '',
  '| scenario | c | audit log | req/s | p50 ms | p99 ms | server CPU s / 1k req | req/s vs off |',
  '| -------- | -: | --------- | ----: | -----: | -----: | --------------------: | -----------: |',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
if (!values['no-readme']) writeReadmeSection('audit', table);
