// The fallback load generator when wrk is absent (the smoke run on CI): N concurrent loops,
// one keep-alive connection each, for a fixed time. Same inputs and outputs as runWrk().
import { Buffer } from 'node:buffer';
import https from 'node:https';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

function expand(template, counter, randomMax) {
  return template
    .replace('{n}', `n${counter}`)
    .replace('{r}', String(Math.floor(Math.random() * (randomMax ?? 1))));
}

function once(lib, agent, target, path) {
  return new Promise((resolve) => {
    const headers = { ...target.headers };
    if (target.body) headers['content-length'] = Buffer.byteLength(target.body);
    const req = lib.request(
      { host: '127.0.0.1', port: target.port, method: target.method ?? 'GET', path, headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(target.body || undefined);
  });
}

export async function runNodeLoad(target, { connections, durationS, ca }) {
  const lib = target.scheme === 'http' ? http : https;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: connections, ca, rejectUnauthorized: !!ca });
  const latencies = [];
  let counter = 0;
  let non2xx = 0;
  let sockErrors = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + durationS * 1000;
  async function loop() {
    while (performance.now() < end) {
      const t0 = performance.now();
      const status = await once(lib, agent, target, expand(target.path, ++counter, target.randomMax));
      latencies.push(performance.now() - t0);
      if (status === 0) sockErrors++;
      else if (status > 399) non2xx++;
    }
  }
  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    loadgen: 'node',
    requests: latencies.length,
    durationS: seconds,
    rps: latencies.length / seconds,
    non2xx,
    sockErrors,
    p50Ms: pct(50),
    p99Ms: pct(99),
    loadgenCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
