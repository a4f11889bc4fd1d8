// The peer baseline: OpenStack Barbican through ../shared/peers/barbican/ (install, start,
// bench, stop). It answers plain HTTP on loopback, where Coffer answers HTTPS. Reads come from
// its SQLite mode (its fastest reads); creates from its MariaDB mode, because on SQLite most
// concurrent creates fail with "database is locked" (see the peer's README). BARBICAN_PEER_DIR
// overrides where the peer scripts are.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const PEER =
  process.env.BARBICAN_PEER_DIR ?? fileURLToPath(new URL('../../../shared/peers/barbican', import.meta.url));

function sh(script, args, env = {}) {
  return new Promise((resolve, reject) =>
    execFile(
      path.join(PEER, script),
      args,
      { env: { ...process.env, ...env }, maxBuffer: 4 << 20 },
      (e, out, err) =>
        e
          ? reject(new Error(`${script} failed: ${String(err).trim().split('\n').slice(-3).join(' | ')}`))
          : resolve(out),
    ),
  );
}

function figure(output, name) {
  const match = new RegExp(`^barbican ${name} ([\\d.]+)`, 'm').exec(output);
  return match ? Number(match[1]) : null;
}

async function installed() {
  try {
    await new Promise((resolve, reject) =>
      execFile('/usr/bin/python3', ['-c', 'import barbican'], (e) => (e ? reject(e) : resolve())),
    );
    return true;
  } catch {
    return false;
  }
}

async function benchMode(kind, stateDir, port, concurrencies, durationS, log) {
  const env = { SKIP_APT: (await installed()) ? '1' : '0', BARBICAN_DB: kind, DBPORT: String(port + 40000) };
  log(`barbican (${kind}): install.sh into ${stateDir}`);
  await sh('install.sh', [stateDir], env);
  const pid = (await sh('start.sh', [String(port), stateDir], env)).trim().split('\n').pop();
  const results = {};
  try {
    for (const c of concurrencies) {
      log(`barbican (${kind}): bench.sh at c=${c}`);
      const out = await sh('bench.sh', [String(port), pid], {
        CONNS: String(c),
        WRK_THREADS: String(Math.min(c, 2)),
        DURATION: String(durationS),
      });
      results[c] = {
        read: {
          rps: figure(out, 'read_payload_rps'),
          p50Ms: figure(out, 'read_payload_p50_ms'),
          p99Ms: figure(out, 'read_payload_p99_ms'),
        },
        create: {
          rps: figure(out, 'create_ok_rps'),
          p50Ms: figure(out, 'create_p50_ms'),
          p99Ms: figure(out, 'create_p99_ms'),
        },
        rssMiB: figure(out, 'after_bench_rss_mib'),
      };
    }
  } finally {
    await sh('stop.sh', [pid]).catch((error) => log(`barbican stop: ${error.message}`));
  }
  return results;
}

/**
 * Resolves to {available, reason?, transport: 'http', byConcurrency: {c: {read, create}}, sqlite, mariadb}.
 * Never throws: a peer that cannot run here is recorded with the reason.
 */
export async function barbicanBaseline({ workDir, concurrencies, durationS, log }) {
  if (!existsSync(path.join(PEER, 'install.sh')))
    return { available: false, reason: `no peer scripts in ${PEER}` };
  if (!(await installed()) && process.getuid?.() !== 0) {
    return { available: false, reason: 'python3-barbican is not installed and apt-get needs root' };
  }
  try {
    const sqlite = await benchMode(
      'sqlite',
      path.join(workDir, 'barbican-sqlite'),
      19311,
      concurrencies,
      durationS,
      log,
    );
    const mariadb = await benchMode(
      'mariadb',
      path.join(workDir, 'barbican-mariadb'),
      19312,
      concurrencies,
      durationS,
      log,
    );
    const byConcurrency = {};
    for (const c of concurrencies) byConcurrency[c] = { read: sqlite[c].read, create: mariadb[c].create };
    return { available: true, transport: 'http', byConcurrency, sqlite, mariadb };
  } catch (error) {
    return { available: false, reason: error.message };
  }
}
