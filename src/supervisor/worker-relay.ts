import type { SealManager } from '../core/seal-manager.js';
import type { SealEvent, SealRelay } from '../core/seal-relay.js';
import { isCofferMessage, type SupervisorMessage, type WorkerMessage } from './messages.js';

/** How long an operator's unseal or seal waits for the other workers before answering anyway. */
const RELAY_TIMEOUT_MS = 10_000;

/**
 * A worker's side of the seal relay: what an operator does to one worker's seal (a share, a
 * reset, a seal) the supervisor applies to every other worker before the operator gets the
 * answer, so a burst of new connections after `operator unseal` never meets a sealed worker.
 */
export class WorkerSealRelay implements SealRelay {
  private seal: SealManager | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  // Applied one at a time and in the supervisor's order, so every worker sees the same sequence.
  private queue: Promise<void> = Promise.resolve();
  private readonly early: Extract<SupervisorMessage, { coffer: 'apply' }>[] = [];

  constructor(private readonly send: (message: WorkerMessage) => void) {}

  /** Installed at process start: messages that arrive before the app exists are kept until attach. */
  receive(message: unknown): void {
    if (!isCofferMessage(message)) return;
    const known = message as SupervisorMessage;
    if (known.coffer === 'done') {
      this.waiting.get(known.id)?.();
      this.waiting.delete(known.id);
    } else if (known.coffer === 'apply') {
      if (this.seal) this.enqueue(known);
      else this.early.push(known);
    }
  }

  /** The app is built: apply what came early, then get the shares that opened the other workers. */
  async attach(seal: SealManager): Promise<void> {
    this.seal = seal;
    for (const message of this.early.splice(0)) this.enqueue(message);
    await this.request((id) => ({ coffer: 'catch-up', id }));
  }

  /** Tells the supervisor what this worker just did; resolves once the others did it too (or in time). */
  broadcast(event: SealEvent): Promise<void> {
    return this.request((id) => ({ coffer: 'seal-event', id, event }));
  }

  private request(message: (id: number) => WorkerMessage): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve();
      }, RELAY_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(id, () => {
        clearTimeout(timer);
        // Anything the supervisor sent before `done` is applied before the caller goes on.
        void this.queue.then(resolve);
      });
      this.send(message(id));
    });
  }

  private enqueue(message: { id: number; event: SealEvent }): void {
    this.queue = this.queue.then(async () => {
      const seal = this.seal!;
      // A share this worker already holds, or one refused here, changes nothing: the worker that
      // took it from the operator already answered for it.
      if (message.event.kind === 'share') await seal.submitShare(message.event.share).catch(() => undefined);
      else if (message.event.kind === 'seal') seal.seal();
      else seal.resetProgress();
      const status = await seal.status().catch(() => undefined);
      this.send({
        coffer: 'applied',
        id: message.id,
        sealed: status?.sealed ?? true,
        progress: status?.progress ?? 0,
      });
    });
  }
}
