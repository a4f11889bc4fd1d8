import { keyHandlePrefix } from '../crypto/keys/key-handle-cache.js';
import type { KeyProvider } from '../crypto/keys/provider.js';
import type { VaultRecord } from '../vaults/types.js';

/**
 * The one seam through which cached state is dropped when what it was built from changes.
 *
 * Every cache that must follow a change registers a handler for its kind; the code that
 * commits the change calls `changed(kind, id)`, which applies it here and tells the observers.
 * A cluster layer (several processes or nodes over one store) observes the local changes to
 * send them to its peers, and calls `invalidate(kind, id)` for each change a peer reports:
 * that applies it here without echoing it back. Handlers are cheap and synchronous (a map
 * delete), so a change takes effect before the request that made it answers.
 *
 * Kinds and their ids:
 *   key        `vaultId/keyname/` (keyHandlePrefix): every version of one key changed or went
 *   vault      `vaultId/`: a vault was purged or erased
 *   principal  an object id: a principal, its credentials or its groups changed
 *   all        no id: everything (seal, a restore, a peer that cannot say what changed)
 */
export type CacheKind = 'key' | 'vault' | 'principal' | 'all';

type Handler = (id: string | undefined) => void;
type Observer = (kind: CacheKind, id: string | undefined) => void;

export interface CacheInvalidation {
  /** Adds the handler a cache runs for changes of `kind` (and for every `all`). */
  register(kind: CacheKind, handler: Handler): void;
  /** A change committed here: applied, then reported to the observers (the cluster layer). */
  changed(kind: CacheKind, id?: string): void;
  /** A change committed elsewhere: applied here only. */
  invalidate(kind: CacheKind, id?: string): void;
  /** Hears every local change. */
  observe(observer: Observer): void;
}

export function createCacheInvalidation(): CacheInvalidation {
  const handlers = new Map<CacheKind, Handler[]>();
  const observers: Observer[] = [];

  function invalidate(kind: CacheKind, id?: string): void {
    if (kind === 'all') {
      for (const list of handlers.values()) for (const handler of list) handler(undefined);
      return;
    }
    for (const handler of handlers.get(kind) ?? []) handler(id);
  }

  return {
    register(kind, handler) {
      handlers.set(kind, [...(handlers.get(kind) ?? []), handler]);
    },
    changed(kind, id) {
      invalidate(kind, id);
      for (const observer of observers) observer(kind, id);
    },
    invalidate,
    observe(observer) {
      observers.push(observer);
    },
  };
}

/**
 * Wires the key provider's parsed-key cache to the seam; returns what keys/ and certificates/
 * call on each committed change of an object (lifecycle.ts `onChange`).
 */
export function keyHandleInvalidation(
  invalidation: CacheInvalidation,
  provider: Pick<KeyProvider, 'forgetKeyHandles'>,
): (vault: Pick<VaultRecord, 'id'>, key: string) => void {
  invalidation.register('key', (prefix) => provider.forgetKeyHandles(prefix));
  invalidation.register('vault', (prefix) => provider.forgetKeyHandles(prefix));
  return (vault, key) => invalidation.changed('key', keyHandlePrefix(vault.id, key));
}
