#!/usr/bin/env node
// Whole-installation backup and restore at scale (issue 14): an installation with N secrets
// (default 1,000,000) is built in-process through Coffer's own secret service (the Key Vault
// API has no batch write; loading 1M secrets over HTTP takes ~8 minutes and measures nothing
// about backups), then the real server is started on it and timed with the real CLI:
// `coffer operator backup` (online, over HTTPS), `backup verify` and `restore` (offline), and
// the restored installation is started and sampled over HTTPS.
//   node bench/backup.mjs [--secrets N] [--keep]
import { execFile } from 'node:child_process';
import net from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import { promisify } from 'node:util';
import { fetchToken, startCoffer } from './lib/coffer.mjs';
import { expectOk } from './lib/https-client.mjs';
import { progressBar } from './lib/progress.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const run = promisify(execFile);
const arg = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index < 0 ? fallback : process.argv[index + 1];
};
const SECRETS = Number(arg('--secrets', '1000000'));
const keep = process.argv.includes('--keep');
// --reuse DIR: a source installation from an earlier `--keep` run (DIR/source), to skip loading.
const reuse = arg('--reuse', undefined);
const work = mkdtempSync(path.join(ROOT, '.bench-backup-'));
const valueOf = (i) => `secret-value-${i}-${'v'.repeat(32)}`;

async function cli(args) {
  const started = process.hrtime.bigint();
  const { stdout } = await run(
    process.execPath,
    [path.join(ROOT, 'bin/coffer.js'), ...args, '--output', 'json'],
    {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return { result: JSON.parse(stdout), seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** A TCP port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Initialises a dev installation with the real server, then fills its `dev` vault in-process. */
async function buildInstallation(dataDir) {
  const first = await startCoffer({ dataDir, port: await freePort() });
  await first.stop();
  const { loadConfig } = await import(pathToFileURL(path.join(DIST, 'src/config/load.js')).href);
  const { buildApp } = await import(pathToFileURL(path.join(DIST, 'src/app.js')).href);
  const { prepareDevServer } = await import(pathToFileURL(path.join(DIST, 'src/core/dev-setup.js')).href);
  const config = loadConfig({ dev: true, dataDir }, { ...process.env, COFFER_LOG_LEVEL: 'silent' });
  const tls = {
    cert: readFileSync(path.join(dataDir, 'tls', 'server.pem'), 'utf8'),
    key: readFileSync(path.join(dataDir, 'tls', 'server-key.pem'), 'utf8'),
  };
  const app = await buildApp(config, tls);
  await prepareDevServer(app, config);
  const vault = await app.vaults.get('dev');
  const bar = progressBar('loading', SECRETS);
  const started = Date.now();
  let next = 0;
  async function worker() {
    while (next < SECRETS) {
      const i = next++;
      await app.secrets.set(vault, `s${i}`, valueOf(i), {});
      if (i % 1000 === 0) bar.update(i);
    }
  }
  await Promise.all(Array.from({ length: 1024 }, worker));
  bar.finish(SECRETS);
  await app.close();
  return (Date.now() - started) / 1000;
}

const source = reuse ? path.join(path.resolve(reuse), 'source') : path.join(work, 'source');
const restored = path.join(work, 'restored');
const file = path.join(work, 'installation.cbk');
let loadSeconds = null;
if (!reuse) {
  mkdirSync(source);
  loadSeconds = await buildInstallation(source);
}
const server = await startCoffer({ dataDir: source, port: await freePort() });
const backup = await cli(['operator', 'backup', '--out', file, '--dev-data-dir', source]);
await server.stop();
const verify = await cli([
  'operator',
  'backup',
  'verify',
  file,
  '--dev-key',
  path.join(source, 'unseal.key'),
]);
const restore = await cli([
  'operator',
  'restore',
  '--from',
  file,
  '--data-dir',
  restored,
  '--dev-key',
  path.join(source, 'unseal.key'),
]);
const check = await startCoffer({ dataDir: restored, port: await freePort() });
const token = await fetchToken(check);
const sampled = [];
for (let n = 0; n < 100; n++) {
  const i = Math.floor(Math.random() * SECRETS);
  const body = await expectOk(check.client, 'GET', `/secrets/s${i}?api-version=7.6`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (body.value !== valueOf(i)) throw new Error(`s${i} did not read back after restore`);
  sampled.push(i);
}
await check.stop();

const results = {
  date: new Date().toISOString(),
  machine: `${availableParallelism()} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
  secrets: SECRETS,
  records: backup.result.records,
  fileMiB: +(statSync(file).size / 2 ** 20).toFixed(1),
  loadSeconds: loadSeconds === null ? null : +loadSeconds.toFixed(1),
  backupSeconds: +backup.seconds.toFixed(1),
  verifySeconds: +verify.seconds.toFixed(1),
  restoreSeconds: +restore.seconds.toFixed(1),
  sampledAfterRestore: sampled.length,
};
console.log(JSON.stringify(results, null, 2));
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(
  path.join(ROOT, 'bench', 'results', `backup-${results.date.replace(/[:.]/g, '-')}.json`),
  `${JSON.stringify(results, null, 2)}\n`,
);
if (!keep) rmSync(work, { recursive: true, force: true });
