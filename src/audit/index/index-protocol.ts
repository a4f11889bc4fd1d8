import type { IndexQuery } from './index-db.js';

/** The messages between the index sink and its thread (index-worker.ts), apart so both can import them. */
export type IndexRequest =
  | { id: number; type: 'cursor' }
  | { id: number; type: 'insert'; lines: string[]; through: number }
  | { id: number; type: 'query'; query: IndexQuery }
  /** Every worker's index (`--workers N`), from one position per chain (null: from the start). */
  | { id: number; type: 'query-all'; query: IndexQuery; start: Array<number | null> }
  | { id: number; type: 'close' };

export type IndexResponse =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Id 0 answers no request: it says the index could not open at all. */
export const OPEN_FAILED_ID = 0;
