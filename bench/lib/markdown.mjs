// The markdown tables of a run, written into bench/README.md between marker comments so that
// each run replaces the previous tables and leaves the rest of the file alone.
import { readFileSync, writeFileSync } from 'node:fs';

const BEGIN = '<!-- bench:results:begin -->';
const END = '<!-- bench:results:end -->';

const fmt = (v, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : '–');
const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(0)}%` : '–');
const times = (v) => (typeof v === 'number' ? `${v.toFixed(1)}×` : '–');

function scenarioTable(doc) {
  const lines = [
    '| scenario | c | req/s | p50 ms | p99 ms | server CPU s / 1k req | vs ceiling | vs openssl | vs Barbican (HTTP) | load-gen CPU |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const s of doc.scenarios) {
    lines.push(
      `| ${s.name} | ${s.concurrency} | ${fmt(s.rps, 0)} | ${fmt(s.p50Ms, 2)} | ${fmt(s.p99Ms, 2)} | ` +
        `${fmt(s.cpuSecondsPer1000, 3)} | ${pct(s.ratios.ceiling)} | ${pct(s.ratios.openssl)} | ` +
        `${times(s.ratios.barbican)} | ${pct(s.loadgenCpuShare)} |`,
    );
  }
  return lines.join('\n');
}

function baselineLines(doc) {
  const { ceiling, framework, openssl, barbican } = doc.baselineDetail;
  const out = [];
  for (const [c, m] of Object.entries(ceiling ?? {})) {
    out.push(
      `- Ceiling (bare Node.js HTTPS, 1 process, ${doc.settings.ceilingBodyBytes}-byte body), c=${c}: ` +
        `${fmt(m.rps, 0)} req/s, p50 ${fmt(m.p50Ms, 2)} ms, p99 ${fmt(m.p99Ms, 2)} ms, load-gen CPU ${pct(m.loadgenCpuShare)} of a core.`,
    );
  }
  for (const [c, m] of Object.entries(framework ?? {})) {
    const share = ceiling?.[c]?.rps ? ` = ${pct(m.rps / ceiling[c].rps)} of the ceiling` : '';
    out.push(
      `- Framework floor (Fastify, same TLS, same response, one route, no work), c=${c}: ` +
        `${fmt(m.rps, 0)} req/s${share}, p99 ${fmt(m.p99Ms, 2)} ms, server CPU ${fmt(m.cpuSecondsPer1000, 3)} s / 1k req.`,
    );
  }
  if (openssl) {
    out.push(
      `- openssl speed (3 s): RSA-2048 sign ${fmt(openssl['rsa2048-sign'], 0)}/s with \`-multi ${openssl.rsaCores}\` ` +
        `(Coffer's RSA worker threads; also the decrypt ceiling; one process: ${fmt(openssl['rsa2048-sign-1-process'], 0)}/s), ` +
        `ECDSA P-256 sign ${fmt(openssl['ecdsa-p256-sign'], 0)}/s and AES-256-GCM on 32 bytes ${fmt(openssl['aes-256-gcm'], 0)}/s ` +
        `in one process (Coffer runs them on its event loop).`,
    );
  }
  if (barbican?.available) {
    for (const [c, b] of Object.entries(barbican.byConcurrency)) {
      out.push(
        `- Barbican 15 (**plain HTTP**, uWSGI 2x2), c=${c}: payload read ${fmt(b.read.rps, 0)} req/s ` +
          `(p50 ${fmt(b.read.p50Ms)} / p99 ${fmt(b.read.p99Ms)} ms, SQLite); create ${fmt(b.create.rps, 0)}/s ` +
          `(p50 ${fmt(b.create.p50Ms)} / p99 ${fmt(b.create.p99Ms)} ms, MariaDB).`,
      );
    }
  } else if (barbican) {
    out.push(`- Barbican: not measured (${barbican.reason}).`);
  }
  return out.join('\n');
}

function scaleTable(doc) {
  if (!doc.scale.length) return '_Scale not measured in this run._';
  const lines = [
    '| secrets | load rate /s | cold start ms | get p50 / p99 ms (c=1) | get req/s, p99 ms (c=32) | list p50 / p99 ms | RSS MiB (start / after) | data dir MiB |',
    '| --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const r of doc.scale) {
    lines.push(
      `| ${r.secrets.toLocaleString('en')} | ${r.loadRate} | ${r.coldStartMs} | ${fmt(r.getP50Ms, 2)} / ${fmt(r.getP99Ms, 2)} | ` +
        `${fmt(r.getRpsC32, 0)}, ${fmt(r.getP99MsC32, 1)} | ${fmt(r.listP50Ms, 2)} / ${fmt(r.listP99Ms, 2)} | ` +
        `${fmt(r.rssAfterStartMiB, 0)} / ${fmt(r.rssMiB, 0)} | ${fmt(r.dataDirMiB)} |`,
    );
  }
  return lines.join('\n');
}

export function renderMarkdown(doc, jsonName) {
  const m = doc.machine;
  return [
    `Run of ${doc.date} on ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, OpenSSL ${m.openssl}; ` +
      `${doc.settings.durationS} s per figure, load generator \`${doc.settings.loadgen}\`; raw data \`results/${jsonName}\`.`,
    '',
    scenarioTable(doc),
    '',
    baselineLines(doc),
    '',
    scaleTable(doc),
    '',
    '![throughput against the baselines](results/latest.svg)',
  ].join('\n');
}

/** Replaces what lies between two marker comments (by default the main run's). */
export function writeReadmeTables(readmePath, markdown, markers = { BEGIN, END }) {
  const text = readFileSync(readmePath, 'utf8');
  const begin = text.indexOf(markers.BEGIN);
  const end = text.indexOf(markers.END);
  if (begin < 0 || end < begin)
    throw new Error(`${readmePath} lacks the ${markers.BEGIN} ... ${markers.END} markers`);
  writeFileSync(
    readmePath,
    `${text.slice(0, begin + markers.BEGIN.length)}\n${markdown}\n${text.slice(end)}`,
  );
}
