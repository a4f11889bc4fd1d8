// The storage tables of bench/README.md, between their own markers, so `npm run bench:storage`
// replaces them and leaves the main run's tables alone.
import { writeReadmeTables } from './markdown.mjs';

const BEGIN = '<!-- bench:storage:begin -->';
const END = '<!-- bench:storage:end -->';
const fmt = (v, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : '–');

function find(doc, backend, nodes, scenario, concurrency) {
  return doc.rows.find(
    (r) =>
      r.backend === backend && r.nodes === nodes && r.scenario === scenario && r.concurrency === concurrency,
  );
}

function targetLines(doc) {
  const lines = [];
  const sqliteGet = find(doc, 'sqlite', 1, 'secret-get', 1);
  const pgGet = find(doc, 'postgres', 1, 'secret-get', 1);
  if (sqliteGet && pgGet) {
    const ratio = pgGet.p50Ms / sqliteGet.p50Ms;
    lines.push(
      `- Get latency, PostgreSQL (1 node) vs SQLite at c=1: p50 ${fmt(pgGet.p50Ms, 3)} vs ${fmt(sqliteGet.p50Ms, 3)} ms = ` +
        `${fmt(ratio, 2)}× (target: within 1.5×) ${ratio <= 1.5 ? '**met**' : '**not met**'}.`,
    );
  }
  const high = Math.max(...doc.rows.map((r) => r.concurrency));
  const one = find(doc, 'postgres', 1, 'secret-get', high);
  const three = find(doc, 'postgres', 3, 'secret-get', high);
  if (one && three) {
    const ratio = three.rps / one.rps;
    lines.push(
      `- Get throughput, 3 nodes vs 1 node at c=${high}: ${fmt(three.rps, 0)} vs ${fmt(one.rps, 0)} req/s = ${fmt(ratio, 2)}× ` +
        `(target: at least 2× where cores allow) on **${doc.machine.cores} cores** shared by the three nodes, ` +
        `PostgreSQL and the load generator: ${ratio >= 2 ? '**met**' : `**not met** here (3 nodes need 3 free cores)`}.`,
    );
  }
  const p = doc.propagation;
  if (p) {
    lines.push(
      `- A write acknowledged by one node is served by another after p50 ${fmt(p.p50Ms, 2)} ms, p99 ${fmt(p.p99Ms, 2)} ms, ` +
        `max ${fmt(p.maxMs, 2)} ms over ${p.rounds} writes (the stated bound is 1.5 s: three heartbeats).`,
    );
  }
  return lines.join('\n');
}

export function renderStorageMarkdown(doc, jsonName) {
  const m = doc.machine;
  const lines = [
    `Run of ${doc.date} on ${m.cores} × ${m.cpuModel}, Node ${m.node}; ${doc.settings.durationS} s per figure, ` +
      `load generator \`${doc.settings.loadgen}\`; raw data \`results/${jsonName}\`.`,
    '',
    '| backend | nodes | scenario | c | req/s | p50 ms | p99 ms | server CPU s / 1k req |',
    '| --- | --: | --- | --: | --: | --: | --: | --: |',
  ];
  for (const r of doc.rows) {
    lines.push(
      `| ${r.backend} | ${r.nodes} | ${r.scenario} | ${r.concurrency} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ` +
        `${fmt(r.p99Ms, 2)} | ${fmt(r.cpuSecondsPer1000, 3)} |`,
    );
  }
  lines.push('', targetLines(doc));
  return lines.join('\n');
}

export function writeStorageTables(readmePath, markdown) {
  writeReadmeTables(readmePath, markdown, { BEGIN, END });
}
