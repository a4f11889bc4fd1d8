// A hand-written SVG chart: for each scenario at the highest concurrency, Coffer's requests/s
// beside each baseline's rate, on a logarithmic axis (the rates span five decades), with
// Coffer's p50/p99 latency written at the end of its bar.
const COLORS = { coffer: '#1f77b4', ceiling: '#7f7f7f', openssl: '#2ca02c', barbican: '#d62728' };
const LABELS = {
  coffer: 'Coffer (HTTPS)',
  ceiling: 'bare Node.js HTTPS',
  openssl: 'openssl speed',
  barbican: 'Barbican (HTTP)',
};

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderSvg(doc) {
  const top = Math.max(...doc.scenarios.map((s) => s.concurrency));
  const rows = doc.scenarios.filter((s) => s.concurrency === top);
  const bars = rows.flatMap((s) => [
    {
      group: s.name,
      kind: 'coffer',
      rate: s.rps,
      note: `p50 ${s.p50Ms.toFixed(1)} / p99 ${s.p99Ms.toFixed(1)} ms`,
    },
    ...Object.entries(s.baselines).map(([kind, rate]) => ({ group: s.name, kind, rate, note: '' })),
  ]);
  const maxRate = Math.max(10, ...bars.map((b) => b.rate));
  const decades = Math.ceil(Math.log10(maxRate));
  const left = 150;
  const plotWidth = 560;
  const barHeight = 14;
  const x = (rate) => left + (Math.log10(Math.max(rate, 1)) / decades) * plotWidth;
  let y = 50;
  const parts = [];
  for (const s of rows) {
    const mine = bars.filter((b) => b.group === s.name);
    parts.push(
      `<text x="${left - 8}" y="${y + barHeight}" text-anchor="end" font-weight="bold">${escape(s.name)}</text>`,
    );
    for (const b of mine) {
      const w = Math.max(1, x(b.rate) - left);
      parts.push(
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${COLORS[b.kind]}"/>`,
      );
      const label = `${Math.round(b.rate).toLocaleString('en')}/s ${b.note}`.trim();
      parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barHeight - 3}">${escape(label)}</text>`);
      y += barHeight;
    }
    y += 10;
  }
  const axis = [];
  for (let d = 0; d <= decades; d++) {
    const gx = x(10 ** d).toFixed(1);
    axis.push(`<line x1="${gx}" y1="40" x2="${gx}" y2="${y}" stroke="#ddd"/>`);
    axis.push(`<text x="${gx}" y="${y + 14}" text-anchor="middle">${(10 ** d).toLocaleString('en')}</text>`);
  }
  const legend = Object.entries(LABELS).map(
    ([kind, label], i) =>
      `<rect x="${left + i * 150}" y="14" width="10" height="10" fill="${COLORS[kind]}"/>` +
      `<text x="${left + i * 150 + 14}" y="23">${escape(label)}</text>`,
  );
  const height = y + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="900" height="${height}" fill="white"/>`,
    ...axis,
    ...legend,
    ...parts,
    `<text x="${left}" y="${height - 8}">requests or operations per second, log scale, concurrency ${top}; ` +
      `${escape(doc.machine.cores)} cores, ${escape(doc.date.slice(0, 10))}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
