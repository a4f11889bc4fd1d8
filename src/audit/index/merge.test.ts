import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexedRow } from './index-db.js';
import { type ChainPage, mergeChains } from './merge.js';

/** A chain as its index holds it: rows by sequence, of which the first `visible` (default all) are indexed. */
interface Chain {
  rows: IndexedRow[];
  visible?: number;
}

const chainOf = (times: number[], slot: number): Chain => ({
  rows: times.map((timeMs, i) => ({ sequence: i + 1, timeMs, line: `${slot}/${i + 1}` })),
});

/** What one index answers (index-db.ts): rows after/before the position, up to its head, at most `limit`. */
function pageOf(
  chain: Chain,
  slot: number,
  order: 'asc' | 'desc',
  limit: number,
  position?: number,
): ChainPage {
  const indexed = chain.rows.slice(0, chain.visible ?? chain.rows.length);
  const head = indexed.length;
  const after = indexed.filter((row) =>
    order === 'asc' ? row.sequence > (position ?? 0) : row.sequence < (position ?? Infinity),
  );
  const ordered = order === 'asc' ? after : after.reverse();
  return { slot, head, rows: ordered.slice(0, limit) };
}

function query(chains: Chain[], order: 'asc' | 'desc', limit: number, start: Array<number | undefined>) {
  const pages = chains.map((chain, slot) => pageOf(chain, slot, order, limit, start[slot]));
  return mergeChains(pages, start, order, limit);
}

/** Follows `next` to the end, as a client follows nextLink. */
function pageThrough(chains: Chain[], order: 'asc' | 'desc', limit: number): string[] {
  const seen: string[] = [];
  let start: Array<number | undefined> = chains.map(() => undefined);
  for (;;) {
    const page = query(chains, order, limit, start);
    seen.push(...page.records.map((record) => record.line));
    if (!page.next) return seen;
    start = page.next;
  }
}

describe('merging the chains of several workers', () => {
  it('orders by time, then worker slot, then sequence, and applies the limit once', () => {
    const chains = [chainOf([10, 20, 30, 30], 0), chainOf([15, 20, 30], 1)];
    const page = query(chains, 'asc', 5, [undefined, undefined]);
    assert.deepEqual(
      page.records.map((record) => record.line),
      ['0/1', '1/1', '0/2', '1/2', '0/3'],
    );
    assert.deepEqual(page.next, [3, 2]);
    const desc = query(chains, 'desc', 3, [undefined, undefined]);
    assert.deepEqual(
      desc.records.map((record) => record.line),
      ['1/3', '0/4', '0/3'],
    );
    assert.deepEqual(desc.next, [3, 3]);
  });

  it('pages through every record exactly once, at any page size, in both orders', () => {
    // Times out of step between chains and not even monotonic within one (clock steps).
    const chains = [
      chainOf([5, 1, 9, 9, 12, 3, 40], 0),
      chainOf([2, 2, 8, 30], 1),
      chainOf([], 2),
      chainOf([7], 3),
    ];
    const all = chains.flatMap((chain, slot) => chain.rows.map((row) => `${slot}/${row.sequence}`)).sort();
    for (const order of ['asc', 'desc'] as const) {
      for (let limit = 1; limit <= 13; limit++) {
        const seen = pageThrough(chains, order, limit);
        assert.equal(new Set(seen).size, seen.length, `no duplicate (${order}, limit ${limit})`);
        assert.deepEqual([...seen].sort(), all, `no gap (${order}, limit ${limit})`);
      }
    }
  });

  it('still returns a record its index showed late, though its time is older than a page already read', () => {
    const chains = [chainOf([1, 2, 3, 4], 0), chainOf([1.5, 2.5], 1)];
    chains[1]!.visible = 0; // worker 1's index has not caught up yet
    const first = query(chains, 'asc', 2, [undefined, undefined]);
    assert.deepEqual(
      first.records.map((record) => record.line),
      ['0/1', '0/2'],
    );
    chains[1]!.visible = undefined;
    const second = query(chains, 'asc', 2, first.next!);
    assert.deepEqual(
      second.records.map((record) => record.line),
      ['1/1', '1/2'],
    );
  });

  it('descending, leaves out what was written after the first page', () => {
    const chains = [chainOf([1, 2, 3], 0), chainOf([0.5], 1)];
    const first = query(chains, 'desc', 2, [undefined, undefined]);
    assert.deepEqual(first.next, [2, 2]); // worker 1 not reached: it goes on from below its head then
    chains[1]!.rows.push({ sequence: 2, timeMs: 9, line: '1/2' });
    const second = query(chains, 'desc', 2, first.next!);
    assert.deepEqual(
      second.records.map((record) => record.line),
      ['0/1', '1/1'],
    );
  });

  it('gives, for following, the positions after everything the answer covered', () => {
    const chains = [chainOf([1, 2, 3], 0), chainOf([1], 1)];
    const latest = query(chains, 'desc', 2, [undefined, undefined]);
    assert.deepEqual(latest.follow, [3, 1]);
    chains[0]!.rows.push({ sequence: 4, timeMs: 5, line: '0/4' });
    chains[1]!.rows.push({ sequence: 2, timeMs: 6, line: '1/2' });
    const followed = query(chains, 'asc', 10, latest.follow);
    assert.deepEqual(
      followed.records.map((record) => record.line),
      ['0/4', '1/2'],
    );
    assert.equal(followed.next, undefined, 'not a full page');
    assert.deepEqual(followed.follow, [4, 2]);
    // A full ascending page follows from where its next page starts.
    const full = query(chains, 'asc', 2, [undefined, undefined]);
    assert.deepEqual(full.follow, full.next);
  });
});
