// Profiles the server under one scenario: node --cpu-prof on a fresh dev server, c=32 load for
// a while, then prints the functions with the most self time.
// Usage: node bench/profile.mjs SCENARIO [SECONDS]     (SCENARIO: a name from lib/scenarios.mjs)
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { topSelfTime } from './lib/cpu-profile.mjs';
import { measure } from './lib/measure.mjs';
import { prepareFixtures, scenarioTargets } from './lib/scenarios.mjs';
import { hasWrk } from './lib/wrk.mjs';

const [name = 'secret-get', seconds = '10'] = process.argv.slice(2);
const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-profile-'));
const profDir = path.join(dir, 'prof');
const port = 40000 + Math.floor(Math.random() * 10000);
const server = await startCoffer({
  dataDir: path.join(dir, 'data'),
  port,
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir],
});
const token = await fetchToken(server);
const { fixtures } = await prepareFixtures(server, token);
const target = scenarioTargets(server, token, fixtures, 'prof')[name];
if (!target) throw new Error(`unknown scenario ${name}`);
const loadgen = hasWrk() ? 'wrk' : 'node';
const m = await measure(target, {
  connections: 32,
  durationS: Number(seconds),
  loadgen,
  serverPid: server.pid,
});
await server.stop();
console.log(`${name} c=32 under --cpu-prof: ${m.rps} req/s, p99 ${m.p99Ms} ms (profiling slows it down)`);
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
console.log(`profile: ${path.join(profDir, file)}`);
for (const row of topSelfTime(path.join(profDir, file))) {
  console.log(`${String(row.share).padStart(5)}%  ${String(row.selfMs).padStart(6)} ms  ${row.name}`);
}
