// Secret get and set on each storage backend, with the same dev-server set-up and the same
// requests as the main run: SQLite (one process), PostgreSQL behind one node, and PostgreSQL
// behind three nodes sharing the load (the load generator splits its connections over them).
// Also measures how long a write on one node takes to be served by another (the stale bound).
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchToken, startCoffer } from './coffer.mjs';
import { expectOk } from './https-client.mjs';
import { measure } from './measure.mjs';
import { round } from './proc.mjs';
import { SECRET_VALUE } from './scenarios.mjs';

const API = 'api-version=7.6';

function targets(server, token, tag) {
  const auth = { Authorization: `Bearer ${token}` };
  return {
    'secret-get': { port: server.port, path: `/secrets/bench-read/?${API}`, headers: auth },
    'secret-set': {
      port: server.port,
      method: 'PUT',
      path: `/secrets/set-${tag}-{n}?${API}`,
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ value: SECRET_VALUE }),
    },
  };
}

/** One figure over one or several nodes: connections split between them, CPU of every node summed. */
async function measureSpread(servers, scenario, connections, options, tag) {
  const shares = servers.map(
    (_, i) => Math.floor(connections / servers.length) + (i < connections % servers.length ? 1 : 0),
  );
  const parts = await Promise.all(
    servers.map(async (server, i) => {
      const target = targets(server, await fetchToken(server), `${tag}-n${i}`)[scenario];
      return measure(target, { ...options, connections: shares[i], serverPid: server.pid });
    }),
  );
  const requests = parts.reduce((sum, part) => sum + part.requests, 0);
  const cpu = parts.reduce((sum, part) => sum + ((part.cpuSecondsPer1000 ?? 0) * part.requests) / 1000, 0);
  return {
    requests,
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    rps: round(
      parts.reduce((sum, part) => sum + part.rps, 0),
      1,
    ),
    p50Ms: round(parts.reduce((sum, part) => sum + part.p50Ms * part.requests, 0) / Math.max(1, requests), 3),
    p99Ms: Math.max(...parts.map((part) => part.p99Ms)),
    cpuSecondsPer1000: requests > 0 ? round((cpu / requests) * 1000, 4) : null,
  };
}

/** Writes on `writer`, polls `reader` until it serves the new value; milliseconds per round. */
async function propagation(writer, reader, rounds) {
  const [writeToken, readToken] = [await fetchToken(writer), await fetchToken(reader)];
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const value = `v${i}-${Date.now()}`;
    await expectOk(writer.client, 'PUT', `/secrets/bench-propagation?${API}`, {
      headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    const started = performance.now();
    for (;;) {
      const got = await reader.client.request('GET', `/secrets/bench-propagation/?${API}`, {
        headers: { authorization: `Bearer ${readToken}` },
      });
      if (got.status === 200 && got.body.value === value) break;
      if (performance.now() - started > 10_000) throw new Error('a write never reached the other node');
    }
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))], 2);
  return { rounds, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(times[times.length - 1], 2) };
}

async function prepare(server) {
  const token = await fetchToken(server);
  await expectOk(server.client, 'PUT', `/secrets/bench-read?${API}`, {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ value: SECRET_VALUE }),
  });
}

/** A second dev node of the same installation: the first one's unseal key, credentials and TLS. */
function cloneDevDir(from, to) {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of ['unseal.key', 'dev.json', 'tls'])
    cpSync(path.join(from, name), path.join(to, name), { recursive: true });
}

export async function measureStorage({
  workDir,
  port,
  concurrencies,
  durationS,
  loadgen,
  ca,
  log,
  PgTestCluster,
}) {
  const options = { durationS, loadgen, ca };
  const rows = [];
  const run = async (backend, servers) => {
    for (const c of concurrencies) {
      if (c < servers.length) continue;
      for (const scenario of ['secret-get', 'secret-set']) {
        const m = await measureSpread(servers, scenario, c, options, `${backend}${servers.length}-c${c}`);
        log(
          `${backend} x${servers.length} ${scenario} c=${c}: ${m.rps} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms`,
        );
        rows.push({ backend, nodes: servers.length, scenario, concurrency: c, ...m });
      }
    }
  };

  const sqlite = await startCoffer({ dataDir: path.join(workDir, 'sqlite'), port });
  try {
    await prepare(sqlite);
    await run('sqlite', [sqlite]);
  } finally {
    await sqlite.stop();
  }

  const pg = await PgTestCluster.create(path.join(workDir, 'pg'));
  const nodes = [];
  try {
    const env = { COFFER_STORAGE_URL: pg.url() };
    const first = path.join(workDir, 'pg-node-0');
    nodes.push(await startCoffer({ dataDir: first, port: port + 1, env }));
    await prepare(nodes[0]);
    await run('postgres', nodes);
    for (const i of [1, 2]) {
      cloneDevDir(first, path.join(workDir, `pg-node-${i}`));
      nodes.push(
        await startCoffer({
          dataDir: path.join(workDir, `pg-node-${i}`),
          port: port + 1 + i,
          env,
          keepDevFile: true,
        }),
      );
    }
    await sleep(500);
    await run('postgres', nodes);
    const spread = await propagation(nodes[0], nodes[1], durationS < 1 ? 5 : 100);
    log(
      `write on one node served by another after p50 ${spread.p50Ms} ms, p99 ${spread.p99Ms} ms, max ${spread.maxMs} ms`,
    );
    return { rows, propagation: spread };
  } finally {
    for (const node of nodes) await node.stop();
    pg.stop();
  }
}
