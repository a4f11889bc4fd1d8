import { StorageFull } from '../../errors/index.js';

/** How often, at most, a full store tries a write to learn whether space came back. */
const PROBE_INTERVAL_MS = 1000;

/**
 * Disk full: a write that fails for lack of space becomes StorageFull (503 with Retry-After, in
 * Azure's error shape); SQLite has rolled it back whole, so nothing of it is stored. From then on
 * the store reports itself not writable (`/readyz`) until a write succeeds again, which a small
 * probe write tries at most once a second, so readiness comes back by itself when space does.
 */
export class SpaceMonitor {
  private full = false;
  private lastProbeMs = 0;

  constructor(
    /** A real write as large as a big request's (then removed), through the same commit path. */
    private readonly probe: () => Promise<void>,
    private readonly onFull: () => void,
  ) {}

  async guard<T>(write: Promise<T>): Promise<T> {
    try {
      const result = await write;
      this.full = false;
      return result;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_FULL') throw error;
      this.full = true;
      this.onFull();
      throw new StorageFull();
    }
  }

  async writable(): Promise<boolean> {
    if (!this.full) return true;
    const now = Date.now();
    if (now - this.lastProbeMs < PROBE_INTERVAL_MS) return false;
    this.lastProbeMs = now;
    try {
      await this.guard(this.probe());
      return true;
    } catch {
      return false;
    }
  }
}
