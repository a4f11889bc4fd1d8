// `node bench/workers.mjs [--workers N] [--duration 8] [--rounds 3] [--concurrency 32]
//   [--scenarios secret-get,es256-sign] [--no-readme] [--smoke]`: what `coffer server --workers N`
// buys. `--smoke` (CI): one round of 0.5 s figures with the built-in Node load loop, checked for
// shape, written nowhere.
// Coffer with 1 worker and with N (default: one per CPU), each against the ceiling (the bare
// Node.js HTTPS server of `npm run bench`) with 1 process and with N processes sharing the
// listener the same way (node:cluster, the kernel picking the process). Server CPU is summed
// over the whole process tree (supervisor and workers). Rounds interleave the four servers so
// that the machine's drift hits them alike; medians and ratios go to results/workers-*.json and
// README.md.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REFERENCE_SERVERS, startReference } from './lib/ceiling.mjs';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { measure } from './lib/measure.mjs';
import { prepareFixtures, scenarioTargets } from './lib/scenarios.mjs';
import { createBenchToken } from './lib/softhsm.mjs';
import { summarise, writeReadmeSection, writeResults } from './lib/rounds.mjs';
import { hasWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: String(Math.max(2, os.availableParallelism())) },
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    scenarios: { type: 'string', default: 'secret-get,es256-sign' },
    'no-readme': { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke;
const workers = Number(values.workers);
const durationS = smoke ? 0.5 : Number(values.duration);
const rounds = smoke ? 1 : Number(values.rounds);
const concurrencies = values.concurrency.split(',').map(Number);
const scenarios = values.scenarios.split(',');
const loadgen = !smoke && hasWrk() ? 'wrk' : 'node';
if (!(workers >= 2)) throw new Error('--workers must be at least 2 (it is compared with 1)');

const log = (line) => process.stderr.write(`[workers bench] ${line}\n`);
const work = mkdtempSync(path.join(os.tmpdir(), 'coffer-workers-bench-'));
const port = 30000 + Math.floor(Math.random() * 20000);
/** runs[server][processes][scenario][c]: the measurements of every round. */
const runs = { coffer: {}, ceiling: {} };
function record(server, processes, scenario, c, m) {
  const byScenario = (runs[server][processes] ??= {});
  ((byScenario[scenario] ??= {})[c] ??= []).push(m);
  log(
    `${server} x${processes} ${scenario} c=${c}: ${m.rps} req/s, p99 ${m.p99Ms} ms, ${m.cpuSecondsPer1000} s CPU/1k`,
  );
  if (m.errors > 0) throw new Error(`${server} x${processes} ${scenario} c=${c}: ${m.errors} errors`);
}

async function measureCoffer(round, processes) {
  const dataDir = path.join(work, `coffer-${round}-${processes}`, 'data');
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const server = await startCoffer({
    dataDir,
    port,
    workers: processes,
    env: createBenchToken(path.dirname(dataDir)),
  });
  try {
    const token = await fetchToken(server);
    const { fixtures, secretGetBytes } = await prepareFixtures(server, token);
    const targets = scenarioTargets(server, token, fixtures, `w${round}x${processes}`);
    for (const c of concurrencies) {
      for (const scenario of scenarios) {
        const m = await measure(targets[scenario], {
          connections: c,
          durationS,
          loadgen,
          serverPid: server.pid,
        });
        record('coffer', processes, scenario, c, m);
      }
    }
    return { tlsDir: path.join(dataDir, 'tls'), bodyBytes: secretGetBytes };
  } finally {
    await server.stop();
  }
}

async function measureCeiling(processes, { tlsDir, bodyBytes }) {
  const ceilingPort = port + 1;
  const server = await startReference({
    script: REFERENCE_SERVERS.ceiling,
    port: ceilingPort,
    tlsDir,
    bodyBytes,
    processes,
  });
  try {
    // The same request as a secret get, with a bearer header of a real token's size.
    const target = {
      port: ceilingPort,
      path: '/secrets/bench-read/?api-version=7.6',
      headers: { Authorization: `Bearer ${'x'.repeat(1058)}` },
    };
    for (const c of concurrencies) {
      const m = await measure(target, { connections: c, durationS, loadgen, serverPid: server.pid });
      record('ceiling', processes, 'secret-get', c, m);
    }
  } finally {
    await server.stop();
  }
}

try {
  for (let round = 1; round <= rounds; round++) {
    const reference = await measureCoffer(round, 1);
    await measureCoffer(round, workers);
    await measureCeiling(1, reference);
    await measureCeiling(workers, reference);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const summary = {};
for (const [server, byProcesses] of Object.entries(runs)) {
  for (const [processes, byScenario] of Object.entries(byProcesses)) {
    for (const [scenario, byC] of Object.entries(byScenario)) {
      for (const [c, list] of Object.entries(byC)) {
        (((summary[server] ??= {})[processes] ??= {})[scenario] ??= {})[c] = summarise(list);
      }
    }
  }
}

if (smoke) {
  const rows = Object.values(summary).flatMap((byProcesses) =>
    Object.values(byProcesses).flatMap((byScenario) =>
      Object.values(byScenario).flatMap((byC) => Object.values(byC)),
    ),
  );
  const expected = 2 * (1 + scenarios.length) * concurrencies.length;
  if (rows.length !== expected || !rows.every((row) => row.rps > 0 && row.cpuSecondsPer1000 > 0)) {
    console.error(`bench workers smoke: FAILED: ${JSON.stringify(summary)}`);
    process.exit(1);
  }
  console.log(`bench workers smoke: ok (${rows.length} rows, ${workers} workers)`);
  process.exit(0);
}

const { file, date } = writeResults('workers', { workers, durationS, rounds, loadgen, summary, runs });

const pct = (x) => `${Math.round(x * 100)}%`;
const rows = [];
for (const c of concurrencies) {
  for (const processes of [1, workers]) {
    const ceiling = summary.ceiling[processes]['secret-get'][c];
    rows.push(
      `| ceiling | ${processes} | ${c} | ${ceiling.rps} | ${ceiling.p50Ms} | ${ceiling.p99Ms} | ${ceiling.cpuSecondsPer1000} | ${ceiling.serverCpuShare} | ${ceiling.loadgenCpuShare} | – | ${processes === 1 ? '–' : pct(ceiling.rps / summary.ceiling[1]['secret-get'][c].rps)} |`,
    );
    for (const scenario of scenarios) {
      const s = summary.coffer[processes][scenario][c];
      const one = summary.coffer[1][scenario][c];
      rows.push(
        `| ${scenario} | ${processes} | ${c} | ${s.rps} | ${s.p50Ms} | ${s.p99Ms} | ${s.cpuSecondsPer1000} | ${s.serverCpuShare} | ${s.loadgenCpuShare} | ${pct(s.rps / ceiling.rps)} | ${processes === 1 ? '–' : pct(s.rps / one.rps)} |`,
      );
    }
  }
}
const table = [
  `Run of ${date}, Node ${process.version}, ${os.cpus().length} CPUs, \`${loadgen}\` (on the same cores), ${durationS} s per figure, median of ${rounds} interleaved rounds; raw data \`results/${file}\`.`,
  '',
  '| server | processes | c | req/s | p50 ms | p99 ms | server CPU s / 1k req | server cores busy | load-gen cores busy | vs ceiling, same processes | vs 1 process |',
  '| ------ | --------: | -: | ----: | -----: | -----: | --------------------: | ----------------: | ------------------: | -------------------------: | -----------: |',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
if (!values['no-readme']) writeReadmeSection('workers', table);
