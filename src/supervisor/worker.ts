import path from 'node:path';
import type { CofferConfig } from '../config/types.js';
import { WORKER_SLOT_ENV, type WorkerMessage } from './messages.js';
import { WorkerSealRelay } from './worker-relay.js';

export interface WorkerRole {
  /** This worker's configuration: its own audit directory, as each process keeps its own spool. */
  config: CofferConfig;
  relay: WorkerSealRelay;
  /** Not the first worker: the first one prepared the dev data dir and prints the banner. */
  follower: boolean;
  /** Tells the supervisor this worker listens. */
  ready(): void;
}

/** A node:cluster worker of `coffer server --workers N`. */
export function workerOf(config: CofferConfig): WorkerRole {
  const slot = Number(process.env[WORKER_SLOT_ENV] ?? '0');
  const send = (message: WorkerMessage) => {
    if (process.connected) process.send?.(message);
  };
  const relay = new WorkerSealRelay(send);
  process.on('message', (message) => relay.receive(message));
  return {
    config: { ...config, audit: auditOfWorker(config.audit, slot, config.workers) },
    relay,
    follower: slot !== 0,
    ready: () => send({ coffer: 'ready' }),
  };
}

/**
 * The audit spool, its index and the default file sink are one writer's each: worker N keeps
 * them under `{audit.dir}/worker-N` (docs/ha.md). Sinks configured elsewhere are left as given.
 * The audit query reads every worker's index.
 */
function auditOfWorker(audit: CofferConfig['audit'], slot: number, workers: number): CofferConfig['audit'] {
  const dirOf = (worker: number) => path.join(audit.dir, `worker-${worker}`);
  const dir = dirOf(slot);
  return {
    ...audit,
    dir,
    // A query reads its siblings' indexes too (read-only): it answers for the whole server.
    workerIndexes: {
      slot,
      files: Array.from({ length: workers }, (_, worker) => path.join(dirOf(worker), 'index.db')),
    },
    sinks: audit.sinks.map((sink) =>
      sink.type === 'file' && path.resolve(sink.dir) === path.resolve(audit.dir) ? { ...sink, dir } : sink,
    ),
  };
}
