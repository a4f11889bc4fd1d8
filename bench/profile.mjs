// Profiles the server under one scenario: node --cpu-prof on a fresh dev server, c=32 load for
// a while, then prints the functions with the most self time.
// Usage: node bench/profile.mjs SCENARIO [SECONDS] [ENV=VALUE...]   (SCENARIO: a name from
// lib/scenarios.mjs; ENV=VALUE pairs go to the server, e.g. COFFER_AUDIT_ENABLED=false; c=N
// sets the concurrency, 32 by default)
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { topInclusiveTime, topSelfTime } from './lib/cpu-profile.mjs';
import { measure } from './lib/measure.mjs';
import { prepareFixtures, scenarioTargets } from './lib/scenarios.mjs';
import { createBenchToken } from './lib/softhsm.mjs';
import { hasWrk } from './lib/wrk.mjs';

const [name = 'secret-get', seconds = '10', ...envArgs] = process.argv.slice(2);
/** Trailing KEY=VALUE arguments go to the server's environment (e.g. COFFER_AUDIT_ENABLED=false). */
function envFromArgs() {
  const pairs = envArgs.filter((arg) => !arg.startsWith('c='));
  return Object.fromEntries(
    pairs.map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]),
  );
}
/** `c=N` among the trailing arguments: the concurrency (32 when absent). */
const connections = Number(envArgs.find((arg) => arg.startsWith('c='))?.slice(2) ?? 32);
const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-profile-'));
const profDir = path.join(dir, 'prof');
const port = 40000 + Math.floor(Math.random() * 10000);
const server = await startCoffer({
  dataDir: path.join(dir, 'data'),
  port,
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir],
  // prepareFixtures makes -HSM keys too, so the server needs a token.
  env: { ...createBenchToken(dir), ...envFromArgs() },
});
const token = await fetchToken(server);
const { fixtures } = await prepareFixtures(server, token);
const target = scenarioTargets(server, token, fixtures, 'prof')[name];
if (!target) throw new Error(`unknown scenario ${name}`);
const loadgen = hasWrk() ? 'wrk' : 'node';
const m = await measure(target, {
  connections,
  durationS: Number(seconds),
  loadgen,
  serverPid: server.pid,
});
await server.stop();
console.log(
  `${name} c=${connections} under --cpu-prof: ${m.rps} req/s, p99 ${m.p99Ms} ms (profiling slows it down)`,
);
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
console.log(`profile: ${path.join(profDir, file)}`);
const print = (row) =>
  console.log(`${String(row.share).padStart(5)}%  ${String(row.selfMs).padStart(6)} ms  ${row.name}`);
console.log('self time:');
topSelfTime(path.join(profDir, file)).forEach(print);
console.log('inclusive time (the function and what it called):');
topInclusiveTime(path.join(profDir, file), 40).forEach(print);
