/** What an operator did to one process's seal, for the other workers of a `--workers N` server. */
export type SealEvent = { kind: 'share'; share: string } | { kind: 'seal' } | { kind: 'reset' };

/** Applies a seal event on every other worker; resolves once they did (bounded by the relay). */
export interface SealRelay {
  broadcast(event: SealEvent): Promise<void>;
}
