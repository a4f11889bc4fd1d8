// Starts and stops a Coffer dev server as a child process and fetches bearer tokens for it.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL, URLSearchParams, fileURLToPath } from 'node:url';
import { createClient, expectOk } from './https-client.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// COFFER_DIST (as for the tests) runs another compilation, so two builds can be compared.
const entryOf = (dist) => (dist ? path.join(dist, 'src/cli/main.js') : 'bin/coffer.js');
export const SCOPE = 'https://vault.localhost/.default';

/**
 * Spawns `coffer server --dev` (of the build in `dist`, default COFFER_DIST or this one) on DIR
 * (with `env` added, e.g. COFFER_STORAGE_URL; `workers` > 1 adds `--workers N`) and waits until DIR/dev.json is written and /readyz
 * answers 200. Resolves to {pid, dev, client, readyMs, stop()}; readyMs is spawn-to-ready.
 */
export async function startCoffer({
  dataDir,
  port,
  nodeArgs = [],
  env = {},
  keepDevFile = false,
  timeoutMs = 120_000,
  dist = process.env.COFFER_DIST,
  workers = 1,
}) {
  const devFile = path.join(dataDir, 'dev.json');
  // A second node of one installation keeps the copied dev.json: without it, it would give the
  // administrator a new secret. Readiness then rests on /readyz alone.
  if (!keepDevFile) rmSync(devFile, { force: true });
  const logFile = path.join(path.dirname(dataDir), `coffer-${port}.log`);
  const log = openSync(logFile, 'a');
  const logStart = statSync(logFile).size;
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      entryOf(dist),
      ...['server', '--dev', '--data-dir', dataDir, '--port', String(port)],
      ...(workers > 1 ? ['--workers', String(workers)] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', log, log], env: { ...process.env, ...env } },
  );
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(devFile)) {
    if (exited) throw new Error(`coffer exited during start-up (${JSON.stringify(exited)}); see its log`);
    if (Date.now() > deadline) throw new Error(`coffer not ready after ${timeoutMs} ms`);
    await sleep(5);
  }
  const dev = JSON.parse(readFileSync(devFile, 'utf8'));
  const client = createClient({ port, caFile: dev.caFile });
  while ((await client.request('GET', '/readyz').catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > deadline) throw new Error('coffer /readyz never answered 200');
    await sleep(5);
  }
  // /readyz answers as soon as the first worker serves; the others start after it.
  while (workers > 1 && !readFileSync(logFile, 'utf8').slice(logStart).includes('workers are serving')) {
    if (exited) throw new Error(`coffer exited during start-up (${JSON.stringify(exited)}); see its log`);
    if (Date.now() > deadline) throw new Error(`not all ${workers} workers serving after ${timeoutMs} ms`);
    await sleep(20);
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  async function stop() {
    client.close();
    if (exited) return;
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([done, sleep(15_000)]);
    if (!exited) child.kill('SIGKILL');
  }
  return { pid: child.pid, dev, client, port, dataDir, readyMs, stop };
}

/** The form body of a client-credentials token request for the dev administrator. */
export function tokenForm(dev) {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: dev.clientId,
    client_secret: dev.clientSecret,
    scope: SCOPE,
  }).toString();
}

export function tokenPath(dev) {
  return `/${dev.tenantId}/oauth2/v2.0/token`;
}

export async function fetchToken(server) {
  const body = await expectOk(server.client, 'POST', tokenPath(server.dev), {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenForm(server.dev),
  });
  return body.access_token;
}
