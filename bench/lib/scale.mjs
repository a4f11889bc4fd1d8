// Scale: grow one vault to each size in turn (through the HTTP write path), restart the server
// on that data dir to time a cold start, then measure get and list latency, RSS and disk use.
import { bulkLoad } from './bulk-load.mjs';
import { fetchToken, startCoffer } from './coffer.mjs';
import { measure } from './measure.mjs';
import { dirBytes, memoryMiB, round } from './proc.mjs';

async function latencies(server, size, options) {
  const token = await fetchToken(server);
  const auth = { Authorization: `Bearer ${token}` };
  const on = { ...options, serverPid: server.pid, connections: 1 };
  const get = { port: server.port, path: '/secrets/s-{r}/?api-version=7.6', headers: auth, randomMax: size };
  const list = { port: server.port, path: '/secrets?maxresults=25&api-version=7.6', headers: auth };
  return {
    get: await measure(get, on),
    get32: await measure(get, { ...on, connections: 32 }),
    list: await measure(list, on),
  };
}

/** sizes ascending; options: {dataDir, port, durationS, loadgen, log}. */
export async function runScale(sizes, options) {
  const rows = [];
  let loaded = 0;
  for (const size of sizes) {
    let server = await startCoffer({ dataDir: options.dataDir, port: options.port });
    const load = await bulkLoad({
      port: server.port,
      caFile: server.dev.caFile,
      getToken: () => fetchToken(server),
      from: loaded,
      to: size,
    });
    loaded = size;
    await server.stop();
    server = await startCoffer({ dataDir: options.dataDir, port: options.port });
    const coldStartMs = server.readyMs;
    const rssAfterStartMiB = memoryMiB(server.pid).rssMiB;
    options.log(`scale ${size}: cold start ${Math.round(coldStartMs)} ms; measuring`);
    const m = await latencies(server, size, options);
    const mem = memoryMiB(server.pid);
    await server.stop();
    rows.push({
      secrets: size,
      loadRate: round((size - (rows.at(-1)?.secrets ?? 0)) / load.seconds, 0),
      coldStartMs: round(coldStartMs, 0),
      getP50Ms: m.get.p50Ms,
      getP99Ms: m.get.p99Ms,
      getRpsC32: m.get32.rps,
      getP99MsC32: m.get32.p99Ms,
      listP50Ms: m.list.p50Ms,
      listP99Ms: m.list.p99Ms,
      rssAfterStartMiB,
      rssMiB: mem.rssMiB,
      peakRssMiB: mem.peakRssMiB,
      dataDirMiB: round(dirBytes(options.dataDir) / 2 ** 20, 1),
      errors: m.get.errors + m.get32.errors + m.list.errors,
    });
  }
  return rows;
}
