import { html, type SafeHtml } from '../../lib/html.js';

export interface ExpiryEntry {
  name: string;
  /** Unix seconds; undefined for a certificate still pending issuance. */
  expires?: number;
}

const WIDTH = 760;
const LABEL = 190;
const ROW = 24;
const SOON_DAYS = 30;

/**
 * The certificate expiry dashboard's chart: one bar per certificate, its length the days left,
 * red when expired, amber within 30 days. Inline SVG built here (no script, no style attribute:
 * classes only, so the CSP's style-src 'self' holds).
 */
export function expiryChart(entries: ExpiryEntry[], nowMs: number): SafeHtml {
  const daysLeft = (entry: ExpiryEntry) =>
    entry.expires === undefined ? undefined : Math.floor((entry.expires * 1000 - nowMs) / 86_400_000);
  const sorted = [...entries].sort((a, b) => (daysLeft(a) ?? Infinity) - (daysLeft(b) ?? Infinity));
  const scaleDays = Math.max(365, ...sorted.map((entry) => daysLeft(entry) ?? 0));
  const plot = WIDTH - LABEL - 90;
  const height = Math.max(1, sorted.length) * ROW + 36;
  const rows = sorted.map((entry, index) => {
    const days = daysLeft(entry);
    const y = 10 + index * ROW;
    const kind = days === undefined ? 'pending' : days < 0 ? 'expired' : days < SOON_DAYS ? 'soon' : 'ok';
    const length = days === undefined || days < 0 ? 4 : Math.max(4, Math.round((days / scaleDays) * plot));
    const label = days === undefined ? 'pending' : days < 0 ? `expired ${-days} d ago` : `${days} d left`;
    return html`<g class="row-${kind}"
      ><title>${entry.name}: ${label}</title>
      <text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${entry.name.slice(0, 26)}</text>
      <rect class="bar-${kind}" x="${LABEL}" y="${y + 3}" width="${length}" height="${ROW - 8}" rx="3"></rect>
      <text x="${LABEL + length + 6}" y="${y + 15}">${label}</text></g
    >`;
  });
  const axisY = height - 22;
  return html`<svg
    class="expiry"
    role="img"
    aria-label="Days until each certificate expires"
    viewBox="0 0 ${WIDTH} ${height}"
    width="${WIDTH}"
    height="${height}"
    xmlns="http://www.w3.org/2000/svg"
  >
    ${rows.length ? rows : html`<text x="${LABEL}" y="24">No certificates.</text>`}
    <line class="today" x1="${LABEL}" y1="4" x2="${LABEL}" y2="${axisY}"></line>
    <line class="axis" x1="${LABEL}" y1="${axisY}" x2="${LABEL + plot}" y2="${axisY}"></line>
    <text x="${LABEL}" y="${axisY + 16}">today</text>
    <text x="${LABEL + plot}" y="${axisY + 16}" text-anchor="end">${scaleDays} days</text>
  </svg>`;
}
