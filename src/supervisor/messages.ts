/**
 * What the supervisor and its workers say over node:cluster's IPC channel (a pipe between a
 * parent and its own children, never a socket or a file). Unseal shares cross it, as submitted,
 * so that every worker opens when the threshold is reached; nothing here is ever logged.
 */
import type { SealEvent } from '../core/seal-relay.js';

export type { SealEvent };

export type WorkerMessage =
  /** A seal event this worker accepted from an operator: apply it on the others, then answer `done`. */
  | { coffer: 'seal-event'; id: number; event: SealEvent }
  /** Answer to `apply`: where this worker stands afterwards. */
  | { coffer: 'applied'; id: number; sealed: boolean; progress: number }
  /** A new worker asks for the shares that opened the others, before it listens. */
  | { coffer: 'catch-up'; id: number }
  /** Listening: the next worker may start. */
  | { coffer: 'ready' };

export type SupervisorMessage =
  { coffer: 'apply'; id: number; event: SealEvent } | { coffer: 'done'; id: number };

export function isCofferMessage(message: unknown): message is { coffer: string; id?: number } {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { coffer?: unknown }).coffer === 'string'
  );
}

/** The worker's slot (0..N-1): stable across restarts, so a restarted worker keeps its audit spool. */
export const WORKER_SLOT_ENV = 'COFFER_WORKER_SLOT';
