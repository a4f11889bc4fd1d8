// `node bench/threads.mjs SCENARIO [SECONDS] [CONCURRENCY] [ENV=VALUE...]`: one scenario against a
// fresh dev server, with the server's CPU per 1,000 requests split by thread (event loop
// `node`, libuv's pool `libuv-worker`, worker threads such as the audit index or RSA).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { measure } from './lib/measure.mjs';
import { prepareFixtures, scenarioTargets } from './lib/scenarios.mjs';
import { createBenchToken } from './lib/softhsm.mjs';
import { threadCpu, threadCpuPer1000 } from './lib/threads.mjs';
import { hasWrk } from './lib/wrk.mjs';

const [name = 'secret-get', seconds = '8', concurrency = '32', ...envArgs] = process.argv.slice(2);
const env = Object.fromEntries(
  envArgs.map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]),
);
const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-threads-'));
const server = await startCoffer({
  dataDir: path.join(dir, 'data'),
  port: 40000 + Math.floor(Math.random() * 10000),
  env: { ...createBenchToken(dir), ...env },
});
try {
  const token = await fetchToken(server);
  const { fixtures } = await prepareFixtures(server, token);
  const target = scenarioTargets(server, token, fixtures, 'threads')[name];
  if (!target) throw new Error(`unknown scenario ${name}`);
  const options = { connections: Number(concurrency), durationS: Number(seconds), serverPid: server.pid };
  await measure(target, { ...options, durationS: 2, loadgen: hasWrk() ? 'wrk' : 'node' }); // warm-up
  const before = threadCpu(server.pid);
  const m = await measure(target, { ...options, loadgen: hasWrk() ? 'wrk' : 'node' });
  const split = threadCpuPer1000(before, threadCpu(server.pid), m.rps * Number(seconds));
  console.log(
    `${name} c=${concurrency}: ${m.rps} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, server CPU ${m.cpuSecondsPer1000} s / 1k req`,
  );
  for (const row of split) console.log(`  ${row.cpuSecondsPer1000.toFixed(4)}  ${row.thread}`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
