// `npm run bench:smoke` / `node bench/smoke.mjs`: every scenario for 0.3 s at c=1 and c=32, the
// ceiling, and a 200-secret scale step, driven by the built-in Node load loop (no wrk, no apt,
// no Barbican, no openssl; pass `--loadgen wrk --duration 1` to smoke the wrk path instead). Checks the results' shape; exits non-zero on any failure.
// Writes to a temporary directory, never to bench/results or bench/README.md.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBench } from './run.mjs';
import { checkShape } from './lib/results.mjs';
import { SCENARIO_NAMES } from './lib/scenarios.mjs';

const out = mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-smoke-'));
try {
  const { doc } = await runBench([
    '--duration',
    '0.3',
    '--loadgen',
    'node',
    '--scale',
    '200',
    '--no-barbican',
    '--no-openssl',
    '--no-readme',
    '--out',
    out,
    ...process.argv.slice(2),
  ]);
  checkShape(doc, SCENARIO_NAMES);
  if (doc.scale.length !== 1 || !(doc.scale[0].getP50Ms > 0))
    throw new Error('results shape: scale row missing');
  console.log(
    `bench smoke: ok (${doc.scenarios.length} scenario rows, load generator ${doc.settings.loadgen})`,
  );
} catch (error) {
  console.error(`bench smoke: FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
