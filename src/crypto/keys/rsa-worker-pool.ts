import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BadParameter, InternalError } from '../../errors/index.js';
import type { RsaWorkerOp, RsaWorkerRequest, RsaWorkerResponse } from './rsa-worker.js';

/**
 * RSA private-key operations (sign, decrypt, unwrap) on a small pool of worker threads, so the
 * ~0.3-0.8 ms each one costs (more on a freshly imported key) leaves the event loop free for
 * every other request and uses the machine's other cores.
 *
 * Key material: each request carries the private KeyObject (key-handle-cache.ts). Posting a
 * KeyObject shares OpenSSL's key with the thread (no JWK crosses, nothing is re-imported), so
 * a cached handle stays warm whichever thread runs it; the worker keeps no reference once it
 * has answered. The input goes in, and the result comes back, in a buffer of its own that is
 * transferred, not shared.
 *
 * Threads start lazily (all of them on the first operation), run unref'd while idle so the pool
 * never keeps the process alive (a thread with an operation in flight holds it, like any other
 * pending I/O), and take work least-busy first, ties round-robin. A thread that crashes or is
 * terminated fails its pending operations with InternalError and is replaced on the next one.
 */

const WORKER_URL = new URL('./rsa-worker.js', import.meta.url);

export interface RsaWorkerPoolOptions {
  /** Number of threads; os.availableParallelism() when absent. */
  size?: number;
}

interface Pending {
  resolve(result: Buffer): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class RsaWorkerPool {
  readonly size: number;
  readonly #threads: Thread[] = [];
  #nextId = 0;
  #nextThread = 0;
  #closed = false;

  constructor(options: RsaWorkerPoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError('The RSA worker pool size must be a positive integer.');
    }
    this.size = size;
  }

  /** The running threads (started lazily, so none before the first operation): for tests and diagnostics. */
  get workers(): readonly Worker[] {
    return this.#threads.map((thread) => thread.worker);
  }

  /**
   * Runs one private-key operation. `alg` must already be checked against the op and the key: a
   * BadParameter from rsa.ts (failed decryption, wrong ciphertext length) comes back as the same
   * BadParameter, anything else as an InternalError that quotes nothing from the worker.
   */
  run(op: RsaWorkerOp, key: KeyObject, alg: string, input: Buffer): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new InternalError('The RSA worker pool is closed.'));
    const thread = this.#pick();
    const id = ++this.#nextId;
    // new Uint8Array(buffer) copies into an ArrayBuffer of exactly this size: posting a Buffer
    // itself would clone the whole (pooled) backing store, other allocations included.
    const copy = new Uint8Array(input);
    const request: RsaWorkerRequest = { id, op, alg, key, input: copy };
    return new Promise<Buffer>((resolve, reject) => {
      try {
        thread.worker.postMessage(request, [copy.buffer]);
      } catch {
        reject(new InternalError('An RSA operation could not be handed to a worker thread.'));
        return;
      }
      // Referenced while busy, so a pending operation keeps the process alive until it answers.
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { resolve, reject });
    });
  }

  /** Terminates every thread; pending operations fail with InternalError, and later ones are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads.splice(0);
    for (const thread of threads) failPending(thread, 'The RSA worker pool was closed');
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  #pick(): Thread {
    while (this.#threads.length < this.size) this.#threads.push(this.#spawn());
    const count = this.#threads.length;
    let best: Thread | undefined;
    for (let i = 0; i < count; i++) {
      const thread = this.#threads[(this.#nextThread + i) % count];
      if (thread && (best === undefined || thread.pending.size < best.pending.size)) best = thread;
    }
    this.#nextThread = (this.#nextThread + 1) % count;
    if (best === undefined) throw new InternalError('The RSA worker pool has no thread.');
    return best;
  }

  #spawn(): Thread {
    const worker = new Worker(WORKER_URL, { execArgv: workerExecArgv() });
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (response: RsaWorkerResponse) => settle(thread, response));
    // The error itself is not passed on: it may carry raw library text.
    worker.on('error', () => this.#retire(thread, 'An RSA worker thread failed'));
    worker.on('messageerror', () => {
      this.#retire(thread, 'An RSA worker thread sent an unreadable answer');
      void worker.terminate();
    });
    worker.on('exit', () => this.#retire(thread, 'An RSA worker thread exited'));
    return thread;
  }

  /** Takes a dead thread out of the pool (the next operation starts a replacement). */
  #retire(thread: Thread, reason: string): void {
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    failPending(thread, reason);
  }
}

function settle(thread: Thread, response: RsaWorkerResponse): void {
  const pending = thread.pending.get(response.id);
  if (pending === undefined) return; // already failed: the thread was retired or the pool closed
  thread.pending.delete(response.id);
  if (thread.pending.size === 0) thread.worker.unref();
  if ('result' in response) {
    const { buffer, byteOffset, byteLength } = response.result;
    pending.resolve(Buffer.from(buffer, byteOffset, byteLength));
  } else if (response.error === 'bad-parameter') {
    pending.reject(new BadParameter(response.message, response.code));
  } else {
    pending.reject(new InternalError('An RSA private-key operation failed in its worker thread.'));
  }
}

function failPending(thread: Thread, reason: string): void {
  const pending = [...thread.pending.values()];
  thread.pending.clear();
  thread.worker.unref();
  for (const operation of pending) {
    operation.reject(new InternalError(`${reason}; the RSA operation did not complete.`));
  }
}

/**
 * The parent's Node flags, as a worker would inherit them, except --input-type: it is allowed
 * only with string input, so a parent started with `--input-type=module -e` would break the thread.
 */
function workerExecArgv(): string[] {
  const flags: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const flag = process.execArgv[i] as string;
    if (flag === '--input-type')
      i++; // its value is the next argument
    else if (!flag.startsWith('--input-type=')) flags.push(flag);
  }
  return flags;
}
