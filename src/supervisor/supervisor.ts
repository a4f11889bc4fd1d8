import cluster, { type Worker } from 'node:cluster';
import type { CofferConfig } from '../config/types.js';
import { isCofferMessage, type SealEvent, type WorkerMessage, WORKER_SLOT_ENV } from './messages.js';

/** A worker that fails this many times in a row before it is ready stops the server. */
const MAX_START_FAILURES = 5;
/** A worker that ran this long before dying is restarted at once, its back-off forgotten. */
const STABLE_AFTER_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;
const APPLY_TIMEOUT_MS = 10_000;

interface Slot {
  index: number;
  worker?: Worker;
  ready: boolean;
  /** Asked for the shares: it applies seal events from now on (a message sent earlier could be lost). */
  attached: boolean;
  startedAt: number;
  failures: number;
}

/**
 * `coffer server --workers N`, the primary: forks N workers that share the listener
 * (node:cluster's shared handle) and open the store as members. The first worker starts alone
 * (it initialises a dev store and writes dev.json and the TLS files), the others after it is
 * ready. Restarts a worker that dies, with back-off; relays seal events between workers; forwards
 * SIGTERM/SIGINT and exits within the shutdown deadline.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;
  /** Said once, when every worker first listens: until then the first ones serve alone. */
  private allServed = false;
  /** The shares given since the workers were last sealed: a restarted worker opens with them. */
  private shares: string[] = [];

  constructor(private readonly config: CofferConfig) {
    this.slots = Array.from({ length: config.workers }, (_, index) => ({
      index,
      ready: false,
      attached: false,
      startedAt: 0,
      failures: 0,
    }));
  }

  async run(): Promise<void> {
    // Each worker accepts from the shared socket itself. Under round-robin the supervisor accepts
    // and hands each connection over, and one handed to a worker as it dies is held open, without
    // an answer or a deadline, by the supervisor; it would also spend a core's share on accepting.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    process.on('SIGINT', () => this.stop('SIGINT'));
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    // A config error fails the first worker: it prints its error once, and no other is started.
    if (!(await this.startFirst(this.slots[0]!))) process.exit(1);
    for (const slot of this.slots.slice(1)) this.fork(slot);
  }

  private startFirst(slot: Slot): Promise<boolean> {
    return new Promise((resolve) => {
      const worker = this.fork(slot, false);
      worker.on('message', (message: unknown) => {
        if (isCofferMessage(message) && message.coffer === 'ready') resolve(true);
      });
      worker.on('exit', () => {
        if (!slot.ready) resolve(false);
      });
    });
  }

  private fork(slot: Slot, restart = true): Worker {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.ready = false;
    slot.attached = false;
    slot.startedAt = Date.now();
    worker.on('message', (message: unknown) => {
      if (isCofferMessage(message)) this.onMessage(slot, worker, message as WorkerMessage);
    });
    // A message to a worker that just died fails here; its 'exit' restarts it, the supervisor goes on.
    worker.on('error', () => undefined);
    worker.on('exit', (code, signal) => {
      if (slot.worker === worker) slot.worker = undefined;
      if (this.stopping) return this.exitWhenAllGone();
      if (restart || slot.ready) this.restart(slot, code, signal);
    });
    return worker;
  }

  private restart(slot: Slot, code: number | null, signal: string | null): void {
    const ranFor = Date.now() - slot.startedAt;
    slot.failures = slot.ready && ranFor >= STABLE_AFTER_MS ? 0 : slot.failures + 1;
    if (!slot.ready && slot.failures >= MAX_START_FAILURES) {
      process.stderr.write(
        `coffer: worker ${slot.index} failed to start ${slot.failures} times in a row (last: ${signal ?? `exit code ${code}`}); stopping. See its error above.\n`,
      );
      process.exitCode = 1;
      this.stop('SIGTERM');
      return;
    }
    const delay = slot.failures === 0 ? 0 : Math.min(250 * 2 ** (slot.failures - 1), MAX_BACKOFF_MS);
    process.stderr.write(
      `coffer: worker ${slot.index} ended (${signal ?? `exit code ${code}`}); restarting in ${delay} ms\n`,
    );
    setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, delay);
  }

  private onMessage(slot: Slot, worker: Worker, message: WorkerMessage): void {
    switch (message.coffer) {
      case 'ready':
        slot.ready = true;
        if (!this.allServed && this.slots.every((each) => each.ready)) {
          this.allServed = true;
          process.stdout.write(`Coffer: all ${this.slots.length} workers are serving\n`);
        }
        return;
      case 'catch-up':
        slot.attached = true;
        for (const share of this.shares)
          worker.send({ coffer: 'apply', id: 0, event: { kind: 'share', share } });
        worker.send({ coffer: 'done', id: message.id });
        return;
      case 'seal-event':
        void this.relay(worker, message.event).then(() => {
          if (worker.isConnected()) worker.send({ coffer: 'done', id: message.id });
        });
        return;
      default:
    }
  }

  /** Applies one worker's seal event on every other worker, and waits for their answers (bounded). */
  private async relay(origin: Worker, event: SealEvent): Promise<void> {
    if (event.kind === 'share') this.shares.push(event.share);
    else this.shares = [];
    // A worker still starting gets the shares when it asks for them (catch-up), before it listens.
    const others = this.slots.flatMap((slot) =>
      slot.attached && slot.worker && slot.worker !== origin && slot.worker.isConnected()
        ? [slot.worker]
        : [],
    );
    const answers = await Promise.all(others.map((worker) => this.apply(worker, event)));
    // Shares that did not open the store (a wrong one resets progress everywhere) are not kept.
    if (answers.length > 0 && answers.every((answer) => answer?.sealed && answer.progress === 0)) {
      this.shares = [];
    }
  }

  private nextApplyId = 1;

  private apply(
    worker: Worker,
    event: SealEvent,
  ): Promise<{ sealed: boolean; progress: number } | undefined> {
    const id = this.nextApplyId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), APPLY_TIMEOUT_MS);
      const onMessage = (message: unknown) => {
        if (isCofferMessage(message) && message.coffer === 'applied' && message.id === id)
          finish(message as unknown as { sealed: boolean; progress: number });
      };
      const finish = (answer: { sealed: boolean; progress: number } | undefined) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(answer);
      };
      const onExit = () => finish(undefined);
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.send({ coffer: 'apply', id, event });
    });
  }

  private stop(signal: NodeJS.Signals): void {
    if (this.stopping) return;
    this.stopping = true;
    this.shares = [];
    for (const slot of this.slots) slot.worker?.process.kill(signal);
    // Each worker has its own deadline; this one covers a worker that hangs past it.
    setTimeout(() => {
      for (const slot of this.slots) slot.worker?.process.kill('SIGKILL');
      process.exit(1);
    }, this.config.connections.shutdownTimeoutMs + 7000).unref();
    this.exitWhenAllGone();
  }

  private exitWhenAllGone(): void {
    if (this.slots.some((slot) => slot.worker !== undefined)) return;
    process.exit(process.exitCode ?? 0);
  }
}
