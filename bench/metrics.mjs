// `node bench/metrics.mjs [--calls 2000000]`: what counting one request costs on the hot path.
// Coffer's RequestMetrics (plain numbers per cached label set, lines made only when scraped)
// against prom-client's own labelled Counter + Histogram (a label key string built on every
// increment), with the same labels; then the time one scrape takes to render.
import { parseArgs } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from '../dist/src/metrics/request-metrics.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000000' } } });
const calls = Number(values.calls);
const operations = ['SecretGet', 'SecretSet', 'KeySign', 'KeyGet'];

function nsPerCall(observe) {
  for (let index = 0; index < 10_000; index++) observe(index);
  const start = process.hrtime.bigint();
  for (let index = 0; index < calls; index++) observe(index);
  return Number(process.hrtime.bigint() - start) / calls;
}

const registry = new Registry();
const coffer = new RequestMetrics(registry);
const cofferNs = nsPerCall((index) => coffer.observe('dev', operations[index & 3], 200, 1.5));

const other = new Registry();
const hits = new Counter({
  name: 'hits',
  help: 'hits',
  labelNames: ['vault', 'activity_type', 'activity_name'],
  registers: [other],
});
const latency = new Histogram({
  name: 'latency',
  help: 'latency',
  labelNames: ['vault', 'activity_type', 'activity_name', 'status_code', 'status_code_class'],
  registers: [other],
});
const promNs = nsPerCall((index) => {
  const activity = { vault: 'dev', activity_type: 'secret', activity_name: operations[index & 3] };
  hits.inc(activity);
  latency.observe({ ...activity, status_code: '200', status_code_class: '2xx' }, 0.0015);
});

const start = process.hrtime.bigint();
const text = await registry.metrics();
const renderMs = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(
  `${calls} calls: RequestMetrics.observe ${cofferNs.toFixed(0)} ns/call, prom-client Counter+Histogram ${promNs.toFixed(0)} ns/call; ` +
    `one scrape of the request metrics ${renderMs.toFixed(1)} ms (${text.length} bytes)\n`,
);
