// Measures every Coffer scenario at every concurrency against one dev server on a fresh data dir,
// with a fresh SoftHSM2 token for the -HSM keys of the premium vault.
import path from 'node:path';
import { fetchToken, startCoffer } from './coffer.mjs';
import { measure } from './measure.mjs';
import { prepareFixtures, scenarioTargets, SCENARIO_NAMES } from './scenarios.mjs';
import { createBenchToken } from './softhsm.mjs';

export async function measureCoffer({ dataDir, port, concurrencies, durationS, loadgen, ca, log }) {
  const server = await startCoffer({ dataDir, port, env: createBenchToken(path.dirname(dataDir)) });
  try {
    const { fixtures, secretGetBytes } = await prepareFixtures(server, await fetchToken(server));
    const measured = {};
    for (const c of concurrencies) {
      measured[c] = {};
      for (const name of SCENARIO_NAMES) {
        const targets = scenarioTargets(server, await fetchToken(server), fixtures, `c${c}`);
        const m = await measure(targets[name], {
          connections: c,
          durationS,
          loadgen,
          ca,
          serverPid: server.pid,
        });
        log(`${name} c=${c}: ${m.rps} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, errors ${m.errors}`);
        measured[c][name] = m;
      }
    }
    return { measured, secretGetBytes, tlsDir: `${dataDir}/tls`, caFile: server.dev.caFile };
  } finally {
    await server.stop();
  }
}
