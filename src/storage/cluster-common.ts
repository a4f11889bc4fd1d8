import type { ClusterEvent, Leadership } from './cluster.js';

/** The listeners of one member's cluster events; a listener that throws cannot stop the others. */
export class ClusterEvents {
  private readonly listeners = new Set<(event: ClusterEvent) => void>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  subscribe(listener: (event: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ClusterEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

/**
 * Leadership as the member sees it: whether it asked to lead, and whether the backend's lock
 * (an advisory lock, a lock file) says it does. Backends call `set` as the lock comes and goes.
 */
export class LeadershipState implements Leadership {
  private leading = false;
  private wanted = false;
  private readonly listeners = new Set<(isLeader: boolean) => void>();

  constructor(private readonly hooks: { requested?: () => void; resigned: () => void }) {}

  get isLeader(): boolean {
    return this.leading;
  }

  get isWanted(): boolean {
    return this.wanted;
  }

  request(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.hooks.requested?.();
  }

  resign(): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.hooks.resigned();
    this.set(false);
  }

  set(isLeader: boolean): void {
    const next = isLeader && this.wanted;
    if (next === this.leading) return;
    this.leading = next;
    for (const listener of this.listeners) listener(next);
  }

  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
