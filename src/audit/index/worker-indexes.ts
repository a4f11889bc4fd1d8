import { statSync } from 'node:fs';
import { type IndexQuery, IndexReader } from './index-db.js';
import { type ChainPage, type MergedPage, mergeChains } from './merge.js';

/** Where the workers of `coffer server --workers N` keep their query indexes, and which one is this worker's. */
export interface WorkerIndexes {
  slot: number;
  /** `{audit.dir}/worker-K/index.db` for K = 0..N-1. */
  files: string[];
}

/** A merged page, and the siblings whose index could not be read (their records are missing from it). */
export type AllWorkersPage = MergedPage & { unreadable: Array<{ worker: number; reason: string }> };

/**
 * Answers a query from every worker's index: this worker's own, and its siblings' opened
 * read-only. A sibling's index is opened on the first query that finds its file (a worker not
 * started yet has none: it is left out until it has), and opened again when its worker replaced
 * it or after a read failed.
 */
export class AllWorkersIndex {
  private readonly siblings = new Map<number, { reader: IndexReader; inode: number }>();

  constructor(
    private readonly own: IndexReader,
    private readonly layout: WorkerIndexes,
  ) {}

  /** Every worker's records; `unreadable` names the siblings whose index could not be read. */
  query(query: IndexQuery, start: ReadonlyArray<number | undefined>): AllWorkersPage {
    const unreadable: AllWorkersPage['unreadable'] = [];
    const pages = this.layout.files.map((_, slot) => {
      try {
        return this.pageOf(slot, query, start[slot]);
      } catch (error) {
        if (slot === this.layout.slot) throw error;
        // Being created (no tables yet), or damaged: opened again on the next query.
        this.forget(slot);
        unreadable.push({ worker: slot, reason: error instanceof Error ? error.message : String(error) });
        return { slot, head: 0, rows: [] };
      }
    });
    return { ...mergeChains(pages, start, query.order, query.limit), unreadable };
  }

  close(): void {
    for (const { reader } of this.siblings.values()) reader.close();
    this.siblings.clear();
  }

  private pageOf(slot: number, query: IndexQuery, position: number | undefined): ChainPage {
    const reader = this.readerOf(slot);
    // No index yet: that worker has not started, so it has no records.
    if (!reader) return { slot, head: 0, rows: [] };
    // The head first, then rows up to it: a record indexed meanwhile waits for the next page.
    const head = reader.cursor();
    return { slot, head, rows: reader.rows({ ...query, cursor: position, through: head }) };
  }

  private readerOf(slot: number): IndexReader | undefined {
    if (slot === this.layout.slot) return this.own;
    const file = this.layout.files[slot]!;
    // No file yet (its worker has not started) or a new one (its worker rebuilt it): (re)open.
    const inode = statSync(file, { throwIfNoEntry: false })?.ino;
    const open = this.siblings.get(slot);
    if (open && open.inode === inode) return open.reader;
    if (open) this.forget(slot);
    if (inode === undefined) return undefined;
    const reader = IndexReader.openReadOnly(file);
    this.siblings.set(slot, { reader, inode });
    return reader;
  }

  private forget(slot: number): void {
    this.siblings.get(slot)?.reader.close();
    this.siblings.delete(slot);
  }
}
