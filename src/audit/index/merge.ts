import type { IndexedRow } from './index-db.js';

/**
 * With `coffer server --workers N` each worker writes its own chain (its own spool, sequence and
 * index). A query answers for all of them: each chain's matching rows, in its own sequence order,
 * merged into one page by time, then worker slot, then sequence.
 *
 * Paging keeps one position per chain, never one time: an index lags its spool a little, so a
 * record may become visible after records of another chain with a later time were returned, and
 * a time cursor would skip it. Each chain gives a prefix of its own rows to every page, so the
 * positions say exactly what was returned, whatever the times.
 */

/** One chain's answer to a query: at most `limit` rows after (or before) its position. Pages come one per slot, in slot order. */
export interface ChainPage {
  /** The worker's slot, 0..N-1. */
  slot: number;
  /** The chain's last indexed sequence when the query began (0 when its index does not exist yet). */
  head: number;
  /** In the query's order (ascending or descending sequence). */
  rows: IndexedRow[];
}

export interface MergedPage {
  records: Array<{ worker: number; line: string }>;
  /** Where the next page starts, one position per chain: only when this page is full. */
  next?: number[];
  /** Positions after everything this answer covers, in ascending order: for following new records. */
  follow: number[];
}

/**
 * Merges the chains' pages. `start[slot]` is the position the query began from: ascending, the
 * last sequence already returned (0 for none); descending, the sequence the page ends before
 * (undefined: from the chain's head).
 */
export function mergeChains(
  pages: ChainPage[],
  start: ReadonlyArray<number | undefined>,
  order: 'asc' | 'desc',
  limit: number,
): MergedPage {
  const sign = order === 'asc' ? 1 : -1;
  const taken = pages.map(() => 0);
  const last: Array<number | undefined> = pages.map(() => undefined);
  const records: MergedPage['records'] = [];
  while (records.length < limit) {
    let best = -1;
    for (let i = 0; i < pages.length; i++) {
      const row = pages[i]!.rows[taken[i]!];
      if (!row) continue;
      if (
        best < 0 ||
        sign * compare(pages[i]!.slot, row, pages[best]!.slot, pages[best]!.rows[taken[best]!]!) < 0
      )
        best = i;
    }
    if (best < 0) break;
    const row = pages[best]!.rows[taken[best]!++]!;
    last[best] = row.sequence;
    records.push({ worker: pages[best]!.slot, line: row.line });
  }
  const full = records.length === limit;
  const positions = (fallback: (page: ChainPage) => number) =>
    pages.map((page, i) => last[i] ?? fallback(page));
  // Ascending, a chain not reached yet stays where it was; descending, it continues from where it
  // stood when this query began (records written since are newer than this page).
  const next =
    order === 'asc'
      ? positions((page) => start[page.slot] ?? 0)
      : positions((page) => start[page.slot] ?? page.head + 1);
  // A page that is not full holds everything that matched up to each chain's head.
  const heads = pages.map((page) => Math.max(page.head, order === 'asc' ? (start[page.slot] ?? 0) : 0));
  return {
    records,
    ...(full ? { next } : {}),
    follow: full && order === 'asc' ? next : heads,
  };
}

function compare(slotA: number, a: IndexedRow, slotB: number, b: IndexedRow): number {
  return a.timeMs - b.timeMs || slotA - slotB || a.sequence - b.sequence;
}
