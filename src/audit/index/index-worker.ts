import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { IndexDb, type IndexQuery } from './index-db.js';

/** The query index's thread: owns the SQLite side table, so inserts and long queries never block requests. */

export type IndexRequest =
  | { id: number; type: 'cursor' }
  | { id: number; type: 'insert'; lines: string[]; through: number }
  | { id: number; type: 'query'; query: IndexQuery }
  | { id: number; type: 'close' };

export type IndexResponse =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

// Indexing is background work: at the lowest priority (on Linux, setpriority(0) sets the calling
// thread's), it takes only the CPU that serving requests leaves, and catches up when they slow.
try {
  setPriority(0, 19);
} catch {
  // Not permitted here: indexing runs at normal priority.
}

const db = new IndexDb((workerData as { file: string }).file);

parentPort!.on('message', (request: IndexRequest) => {
  let response: IndexResponse;
  try {
    response = { id: request.id, ok: true, result: handle(request) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    response = {
      id: request.id,
      ok: false,
      error: `${code ?? (error as Error).name}: ${(error as Error).message}`,
    };
  }
  parentPort!.postMessage(response);
});

function handle(request: IndexRequest): unknown {
  switch (request.type) {
    case 'cursor':
      return db.cursor();
    case 'insert':
      db.insert(request.lines, request.through);
      return request.through;
    case 'query':
      return db.query(request.query);
    case 'close':
      db.close();
      return true;
  }
}
