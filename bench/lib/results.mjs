// Assembles the results document: every scenario row with its baselines and ratios.
import { round } from './proc.mjs';
import { BASELINES_FOR } from './scenarios.mjs';

function baselineRates(name, concurrency, base) {
  const wanted = BASELINES_FOR[name];
  const rates = {};
  const ceiling = base.ceiling?.[concurrency]?.rps;
  if (wanted.ceiling && ceiling) rates.ceiling = ceiling;
  if (wanted.openssl && base.openssl?.[wanted.openssl])
    rates.openssl = round(base.openssl[wanted.openssl], 1);
  const peer = base.barbican?.available ? base.barbican.byConcurrency[concurrency]?.[wanted.barbican] : null;
  if (wanted.barbican && peer?.rps) rates.barbican = peer.rps;
  return rates;
}

/** measured: {[concurrency]: {[name]: measure()}}; base: {ceiling, openssl, barbican}. */
export function buildResults({ machine, settings, measured, base, scale }) {
  const scenarios = [];
  for (const [concurrency, byName] of Object.entries(measured)) {
    for (const [name, m] of Object.entries(byName)) {
      const baselines = baselineRates(name, concurrency, base);
      const ratios = Object.fromEntries(
        Object.entries(baselines).map(([k, rate]) => [k, round(m.rps / rate, 3)]),
      );
      scenarios.push({ name, concurrency: Number(concurrency), ...m, baselines, ratios });
    }
  }
  return {
    date: new Date().toISOString(),
    machine,
    settings,
    scenarios,
    baselineDetail: {
      ceiling: base.ceiling ?? null,
      // Not a baseline of the scenarios: Fastify serving the ceiling's response (see README).
      framework: base.framework ?? null,
      openssl: base.openssl ?? null,
      barbican: base.barbican ?? null,
    },
    scale: scale ?? [],
  };
}

/** Throws unless the document has the shape issue 6 asks for (used by the smoke run). */
export function checkShape(doc, names) {
  const fail = (what) => {
    throw new Error(`results shape: ${what}`);
  };
  if (typeof doc.machine !== 'object' || !doc.machine) fail('machine missing');
  if (!Array.isArray(doc.scenarios)) fail('scenarios is not an array');
  for (const name of names) {
    for (const c of [1, 32]) {
      const row = doc.scenarios.find((s) => s.name === name && s.concurrency === c);
      if (!row) fail(`no ${name} at c=${c}`);
      for (const key of ['rps', 'p50Ms', 'p99Ms', 'cpuSecondsPer1000']) {
        if (typeof row[key] !== 'number' || !Number.isFinite(row[key]))
          fail(`${name} c=${c}: ${key} not a number`);
      }
      if (!(row.rps > 0)) fail(`${name} c=${c}: no successful requests`);
      if (row.errors > 0) fail(`${name} c=${c}: ${row.errors} failed requests`);
      if (typeof row.baselines !== 'object' || typeof row.ratios !== 'object')
        fail(`${name}: baselines/ratios`);
      for (const k of Object.keys(row.baselines))
        if (typeof row.ratios[k] !== 'number') fail(`${name}: ratio ${k}`);
    }
  }
  if (!Array.isArray(doc.scale)) fail('scale is not an array');
}
