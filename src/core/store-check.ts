import { Conflict } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';

/** What a full check of the store found; readable while it runs (progress) and after. */
export interface StoreCheckReport {
  id: string;
  state: 'running' | 'done' | 'failed';
  phase: 'file' | 'records' | 'done';
  startedAt: string;
  finishedAt?: string;
  /** SQLite's integrity_check of the data file. */
  file?: { ok: boolean; problems: string[] };
  /** Every record decrypted and its authentication tag checked. */
  records: { total: number; checked: number; failed: string[] };
  /** True when both found nothing; absent while running. */
  ok?: boolean;
  /** Why the check itself stopped (state `failed`). */
  error?: string;
}

const PAGE = 1000;
/** Records decrypted between two turns of the event loop, so requests keep flowing during a check. */
const SLICE = 100;
/** At most this many failing paths are listed; the count stays exact. */
const MAX_LISTED = 1000;

/**
 * `coffer operator check`, online: SQLite's full integrity_check (on its own thread), then every
 * record read from disk (past the row cache) and authenticated by the barrier. One check at a
 * time; starting while one runs returns it. Failing records are counted and logged by the barrier
 * like any other integrity failure.
 */
export function createStoreCheck(deps: {
  verifyFile: () => Promise<{ ok: boolean; problems: string[] }>;
  listKeys: (after: string | undefined, limit: number) => Promise<string[]>;
  readRaw: (key: string) => Promise<Buffer | undefined>;
  checkRecord: (path: string, stored: Buffer) => Promise<boolean>;
  /** Rows that are not barrier records (the seal configuration, the wrapped root key...). */
  isPlainRow: (key: string) => boolean;
  /** Whether the barrier is open; a sealed store cannot be checked. */
  isUnsealed: () => boolean;
  clock: Clock;
}) {
  let current: StoreCheckReport | undefined;

  async function allKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (let after: string | undefined; ;) {
      const page = await deps.listKeys(after, PAGE);
      keys.push(...page.filter((key) => !deps.isPlainRow(key)));
      if (page.length < PAGE) return keys;
      after = page[page.length - 1];
    }
  }

  async function run(report: StoreCheckReport): Promise<void> {
    report.file = await deps.verifyFile();
    report.phase = 'records';
    const keys = await allKeys();
    report.records.total = keys.length;
    for (const [index, key] of keys.entries()) {
      if (index % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const stored = await deps.readRaw(key);
      // Gone since the listing: deleted meanwhile, nothing to check.
      if (stored !== undefined && !(await deps.checkRecord(key, stored))) {
        if (report.records.failed.length < MAX_LISTED) report.records.failed.push(key);
      }
      report.records.checked++;
    }
    report.ok = report.file.ok && report.records.failed.length === 0;
  }

  return {
    start(): StoreCheckReport {
      if (current?.state === 'running') return current;
      if (!deps.isUnsealed()) {
        throw new Conflict(
          'The store is sealed: unseal it first, or check the stopped data dir offline with --data-dir.',
        );
      }
      const report: StoreCheckReport = {
        id: newUuid(),
        state: 'running',
        phase: 'file',
        startedAt: new Date(deps.clock.nowMs()).toISOString(),
        records: { total: 0, checked: 0, failed: [] },
      };
      current = report;
      void run(report).then(
        () => finish(report, 'done'),
        (error: unknown) => {
          finish(report, 'failed');
          report.error = error instanceof Error ? error.name : 'Error';
          report.ok = false;
        },
      );
      return report;
    },
    /** The running or last check, if any. */
    latest: (): StoreCheckReport | undefined => current,
  };

  function finish(report: StoreCheckReport, state: 'done' | 'failed'): void {
    report.state = state;
    report.phase = 'done';
    report.finishedAt = new Date(deps.clock.nowMs()).toISOString();
  }
}

export type StoreCheck = ReturnType<typeof createStoreCheck>;
