// `npm run bench:storage`: secret get and set on SQLite, on PostgreSQL behind one node and behind
// three nodes, and how long a write on one node takes to be served by another. Writes
// results/storage-<date>.json and the tables in README.md between the storage markers.
// Options: --duration S (default 10), --concurrency 1,32, --loadgen wrk|node, --smoke (a few
// seconds, node load loop, nothing written but a temporary directory).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './lib/proc.mjs';
import { measureStorage } from './lib/storage-bench.mjs';
import { renderStorageMarkdown, writeStorageTables } from './lib/storage-markdown.mjs';
import { hasWrk } from './lib/wrk.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const t0 = Date.now();
const log = (line) =>
  process.stderr.write(`[bench:storage +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '1,32' },
    loadgen: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke;
const dist = process.env.COFFER_DIST ? path.resolve(process.env.COFFER_DIST) : path.join(ROOT, 'dist');
if (!existsSync(path.join(dist, 'src/cli/main.js')))
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const { PgTestCluster } = await import(
  pathToFileURL(path.join(dist, 'src/storage/postgres/pg-test-cluster.js')).href
);

const loadgen = smoke ? 'node' : (values.loadgen ?? (hasWrk() ? 'wrk' : 'node'));
const durationS = smoke ? 0.3 : Number(values.duration);
const concurrencies = smoke ? [1, 32] : values.concurrency.split(',').map(Number);
const workDir = mkdtempSync(path.join(process.env.COFFER_TEST_TMP ?? os.tmpdir(), 'coffer-bench-storage-'));
try {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const measured = await measureStorage({
    workDir,
    port,
    concurrencies,
    durationS,
    loadgen,
    ca: null,
    log,
    PgTestCluster,
  });
  const doc = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    settings: { durationS, loadgen },
    ...measured,
  };
  for (const row of doc.rows)
    if (row.errors > 0 || !(row.rps > 0))
      throw new Error(
        `${row.backend} x${row.nodes} ${row.scenario} c=${row.concurrency}: ${row.errors} errors`,
      );
  if (smoke) {
    console.log(
      `bench storage smoke: ok (${doc.rows.length} rows, propagation p50 ${doc.propagation.p50Ms} ms)`,
    );
  } else {
    const outDir = path.join(HERE, 'results');
    mkdirSync(outDir, { recursive: true });
    const jsonName = `storage-${doc.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(path.join(outDir, jsonName), `${JSON.stringify(doc, null, 2)}\n`);
    writeStorageTables(path.join(HERE, 'README.md'), renderStorageMarkdown(doc, jsonName));
    log(`wrote ${path.join(outDir, jsonName)}`);
  }
} catch (error) {
  log(`failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
