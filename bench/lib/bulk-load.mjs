// Fills a vault through the real write path: one HTTP PUT per secret (the Key Vault API has no
// batch secret write), many in flight over keep-alive connections, with a progress bar.
import { createClient } from './https-client.mjs';
import { progressBar } from './progress.mjs';
import { SECRET_VALUE } from './scenarios.mjs';

/** getToken: async () => bearer token, called again whenever the server answers 401. */
export async function bulkLoad({ port, caFile, getToken, from, to, concurrency = 64 }) {
  const client = createClient({ port, caFile, maxSockets: concurrency });
  const bar = progressBar(`loading secrets ${from}..${to}`, to - from);
  const body = JSON.stringify({ value: SECRET_VALUE });
  let headers = { authorization: `Bearer ${await getToken()}`, 'content-type': 'application/json' };
  let refreshing = null;
  async function refresh() {
    refreshing ??= getToken().then((token) => {
      headers = { ...headers, authorization: `Bearer ${token}` };
      refreshing = null;
    });
    await refreshing;
  }
  let next = from;
  let done = 0;
  async function worker() {
    while (next < to) {
      const i = next++;
      let res = await client.request('PUT', `/secrets/s-${i}?api-version=7.6`, { headers, body });
      for (let retry = 0; res.status === 401 || res.status === 429 || res.status >= 500; retry++) {
        if (res.status === 401) await refresh();
        if (retry > 5) throw new Error(`PUT s-${i} answered ${res.status}: ${res.text.slice(0, 200)}`);
        res = await client.request('PUT', `/secrets/s-${i}?api-version=7.6`, { headers, body });
      }
      if (res.status !== 200) throw new Error(`PUT s-${i} answered ${res.status}: ${res.text.slice(0, 200)}`);
      bar.update(++done);
    }
  }
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  bar.finish(done);
  client.close();
  return { loaded: done, seconds: (Date.now() - started) / 1000 };
}
