// `npm run bench`: Coffer's scenarios, the ceiling / openssl / Barbican baselines and the scale
// runs, then results/run-*.json, results/latest.svg and the tables in README.md.
// Options: see lib/options.mjs (e.g. --duration 10 --scale 1000,100000,1000000 --no-barbican).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { barbicanBaseline } from './lib/barbican.mjs';
import { REFERENCE_SERVERS, startReference } from './lib/ceiling.mjs';
import { measureCoffer } from './lib/coffer-scenarios.mjs';
import { renderMarkdown, writeReadmeTables } from './lib/markdown.mjs';
import { measure } from './lib/measure.mjs';
import { opensslRates } from './lib/openssl.mjs';
import { readOptions } from './lib/options.mjs';
import { machineInfo } from './lib/proc.mjs';
import { buildResults } from './lib/results.mjs';
import { runScale } from './lib/scale.mjs';
import { renderSvg } from './lib/svg.mjs';
import { hasWrk } from './lib/wrk.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const t0 = Date.now();
const log = (line) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);

async function measureReference(
  kind,
  { tlsDir, caFile, bodyBytes, token, concurrencies, durationS, loadgen, port },
) {
  const server = await startReference({ script: REFERENCE_SERVERS[kind], port, tlsDir, bodyBytes });
  const result = {};
  try {
    const target = {
      port,
      path: '/secrets/bench-read/?api-version=7.6',
      headers: { Authorization: `Bearer ${token}` },
    };
    const ca = readFileSync(caFile);
    for (const c of concurrencies) {
      result[c] = await measure(target, { connections: c, durationS, loadgen, ca, serverPid: server.pid });
      log(`${kind} c=${c}: ${result[c].rps} req/s, p99 ${result[c].p99Ms} ms`);
    }
  } finally {
    await server.stop();
  }
  return result;
}

export async function runBench(argv) {
  const opt = readOptions(argv);
  if (!existsSync(path.join(ROOT, 'dist/src/cli/main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const loadgen = opt.loadgen ?? (hasWrk() ? 'wrk' : 'node');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  log(`work dir ${workDir}, load generator ${loadgen}, ${opt.durationS} s per figure`);
  try {
    const common = { concurrencies: opt.concurrencies, durationS: opt.durationS, loadgen, log };
    const coffer = await measureCoffer({ ...common, dataDir: path.join(workDir, 'data'), port, ca: null });
    const caFile = coffer.caFile;
    const ca = readFileSync(caFile);
    Object.assign(common, { ca });
    const fakeToken = 'x'.repeat(1058); // same header size as a real token; the ceiling checks nothing
    const base = {};
    const reference = {
      ...common,
      tlsDir: coffer.tlsDir,
      caFile,
      bodyBytes: coffer.secretGetBytes,
      token: fakeToken,
      port: port + 1,
    };
    base.ceiling = await measureReference('ceiling', reference);
    base.framework = await measureReference('framework', { ...reference, port: port + 3 });
    if (opt.openssl) base.openssl = await opensslRates(3);
    if (opt.barbican) base.barbican = await barbicanBaseline({ ...common, workDir });
    const scale = opt.scaleSizes.length
      ? await runScale(opt.scaleSizes, { ...common, dataDir: path.join(workDir, 'scale'), port: port + 2 })
      : [];
    const settings = { durationS: opt.durationS, loadgen, ceilingBodyBytes: coffer.secretGetBytes };
    const doc = buildResults({ machine: machineInfo(), settings, measured: coffer.measured, base, scale });
    return writeOutputs(doc, opt);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function writeOutputs(doc, opt) {
  const outDir = opt.outDir ?? path.join(HERE, 'results');
  mkdirSync(outDir, { recursive: true });
  const jsonName = `run-${doc.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(path.join(outDir, jsonName), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'latest.svg'), renderSvg(doc));
  if (opt.readme) writeReadmeTables(path.join(HERE, 'README.md'), renderMarkdown(doc, jsonName));
  log(`wrote ${path.join(outDir, jsonName)}`);
  return { doc, file: path.join(outDir, jsonName) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runBench(process.argv.slice(2)).catch((error) => {
    log(`failed: ${error.stack ?? error}`);
    process.exit(1);
  });
}
