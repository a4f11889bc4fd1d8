/**
 * Faults found in stored data or in the storage itself, counted since the process started. The
 * metrics module reads `snapshot()` (no Prometheus dependency here); listeners hear each fault as
 * it happens so the server can log it. A fault carries at most a storage path, never content.
 */
export type FaultKind =
  /** A stored record failed its authentication check: tampered, truncated or moved. */
  | 'integrityFailure'
  /** A write was refused because the disk (or the store) is full. */
  | 'storageFull'
  /** A background purge of a deleted object failed. */
  | 'purgeFailure';

export interface Fault {
  kind: FaultKind;
  /** The storage path concerned, when there is one. */
  path?: string;
  /** What went wrong, in words known to hold no secret. */
  detail?: string;
}

export class FaultCounters {
  private readonly counts: Record<FaultKind, number> = {
    integrityFailure: 0,
    storageFull: 0,
    purgeFailure: 0,
  };
  private readonly listeners: Array<(fault: Fault) => void> = [];

  record(fault: Fault): void {
    this.counts[fault.kind]++;
    for (const listener of this.listeners) listener(fault);
  }

  onFault(listener: (fault: Fault) => void): void {
    this.listeners.push(listener);
  }

  snapshot(): Readonly<Record<FaultKind, number>> {
    return { ...this.counts };
  }
}
