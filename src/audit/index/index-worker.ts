import { statfsSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { IndexDb } from './index-db.js';
import { AllWorkersIndex, type WorkerIndexes } from './worker-indexes.js';
import { type IndexRequest, type IndexResponse, OPEN_FAILED_ID } from './index-protocol.js';

/** The query index's thread: owns the SQLite side table, so inserts and long queries never block requests. */

// Indexing is background work: at the lowest priority (on Linux, setpriority(0) sets the calling
// thread's), it takes only the CPU that serving requests leaves, and catches up when they slow.
try {
  setPriority(0, 19);
} catch {
  // Not permitted here: indexing runs at normal priority.
}

const { file, workers } = workerData as { file: string; workers?: WorkerIndexes };

/**
 * What went wrong, said so an operator can act on it: a full disk is named as such, also when
 * SQLite reports it as an I/O error (growing the WAL index on a full disk is SQLITE_IOERR_SHMSIZE).
 */
function describe(error: unknown): string {
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || (code?.startsWith('SQLITE_IOERR') && diskIsFull()))
    return `the storage is full (${code}): free some space`;
  return `${code ?? name ?? 'Error'}: ${message ?? String(error)}`;
}

function diskIsFull(): boolean {
  try {
    const { bavail, bsize } = statfsSync(path.dirname(file));
    return bavail * bsize < 64 * 1024;
  } catch {
    return false;
  }
}

let db: IndexDb | undefined;
try {
  db = new IndexDb(file);
} catch (error) {
  // Said as a message, not thrown: a thrown SqliteError reaches the sink's 'error' event as a
  // bare object (no message, sometimes before this), and the operator would read "[object Object]".
  parentPort!.postMessage({ id: OPEN_FAILED_ID, ok: false, error: describe(error) } satisfies IndexResponse);
  parentPort!.close(); // nothing more to do: the thread ends, and the sink keeps the reason above
}

if (db) serve(db);

function serve(db: IndexDb): void {
  const all = workers && new AllWorkersIndex(db, workers);
  parentPort!.on('message', (request: IndexRequest) => {
    let response: IndexResponse;
    try {
      response = { id: request.id, ok: true, result: handle(db, all, request) };
    } catch (error) {
      response = { id: request.id, ok: false, error: describe(error) };
    }
    parentPort!.postMessage(response);
  });
}

function handle(db: IndexDb, all: AllWorkersIndex | undefined, request: IndexRequest): unknown {
  switch (request.type) {
    case 'cursor':
      return db.cursor();
    case 'insert':
      db.insert(request.lines, request.through);
      return request.through;
    case 'query':
      return db.query(request.query);
    case 'query-all':
      if (!all) throw new Error('this server has no workers: query its own index');
      return all.query(
        request.query,
        request.start.map((position) => position ?? undefined),
      );
    case 'close':
      all?.close();
      db.close();
      return true;
  }
}
