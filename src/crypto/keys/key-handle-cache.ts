import { type KeyObject, createHash, createPrivateKey } from 'node:crypto';
import type { RsaPrivateJwk } from './types.js';

/**
 * Parsed RSA private keys (KeyObjects: the key lives in OpenSSL's memory, not in JS strings),
 * kept between operations. Importing a JWK costs ~20-30 µs, and OpenSSL's first private
 * operation on a fresh key (blinding, Montgomery set-up) about twice a warm key's, so reusing
 * the handle more than doubles RSA-2048 sign and decrypt throughput (issue 15).
 *
 * Exactness does not depend on invalidation: an entry is found by its handle id (vault, key,
 * version) and used only when the material it was built from has the same fingerprint (SHA-256
 * of the private members) as the material the caller just read from the barrier, so a stale
 * handle can never sign for a changed record. Invalidation (`invalidate`, `clear`) is there to
 * drop key material from memory as soon as the key stops being usable: on update, disable,
 * delete, purge, rotation and import (keys/ and certificates/ report every committed change),
 * on vault deletion and on seal.
 *
 * Bounded in count and in bytes (an estimate from the modulus size); least recently used first out.
 */

export interface KeyHandleCacheOptions {
  /** Most handles kept; 0 turns the cache off (every operation imports the key again). */
  maxEntries?: number;
  /** Most bytes of key material kept (estimated: 5 x the modulus length per RSA key). */
  maxBytes?: number;
}

interface Entry {
  fingerprint: string;
  key: KeyObject;
  bytes: number;
}

export const DEFAULT_KEY_HANDLES = 1_000;
export const DEFAULT_KEY_HANDLE_BYTES = 16 * 1024 * 1024;

export class KeyHandleCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  // A Map iterates in insertion order: re-inserting on use makes its first entry the LRU one.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(options: KeyHandleCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_KEY_HANDLES;
    this.maxBytes = options.maxBytes ?? DEFAULT_KEY_HANDLE_BYTES;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(handleId: string): boolean {
    return this.#entries.has(handleId);
  }

  /**
   * The private KeyObject of `jwk`: the cached one when `handleId` holds a handle built from the
   * same material, else a fresh import (cached under `handleId` when there is one).
   */
  rsaPrivateKey(jwk: RsaPrivateJwk, handleId: string | undefined): KeyObject {
    if (handleId === undefined || this.maxEntries === 0) return importRsa(jwk);
    const fingerprint = fingerprintOf(jwk);
    const entry = this.#entries.get(handleId);
    if (entry !== undefined && entry.fingerprint === fingerprint) {
      this.#entries.delete(handleId);
      this.#entries.set(handleId, entry);
      return entry.key;
    }
    const key = importRsa(jwk);
    this.#put(handleId, { fingerprint, key, bytes: estimatedBytes(jwk) });
    return key;
  }

  /** Drops every handle whose id starts with `prefix` (a key: `vaultId/name/`, a vault: `vaultId/`). */
  invalidate(prefix: string): void {
    for (const [id, entry] of this.#entries) {
      if (id.startsWith(prefix)) this.#remove(id, entry);
    }
  }

  /** Drops every handle: on seal, and when a node cannot tell what changed. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #put(handleId: string, entry: Entry): void {
    const old = this.#entries.get(handleId);
    if (old !== undefined) this.#remove(handleId, old);
    if (entry.bytes > this.maxBytes) return; // larger than the whole budget: used once, not kept
    this.#entries.set(handleId, entry);
    this.#bytes += entry.bytes;
    for (const [id, oldest] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#bytes <= this.maxBytes) break;
      this.#remove(id, oldest);
    }
  }

  #remove(handleId: string, entry: Entry): void {
    this.#entries.delete(handleId);
    this.#bytes -= entry.bytes;
  }
}

/** The id under which a key version's handle is kept; `invalidate(keyHandlePrefix(...))` drops them all. */
export function keyHandleId(vaultId: string, keyName: string, version: string): string {
  return `${keyHandlePrefix(vaultId, keyName)}${version}`;
}

export function keyHandlePrefix(vaultId: string, keyName?: string): string {
  return keyName === undefined ? `${vaultId}/` : `${vaultId}/${keyName.toLowerCase()}/`;
}

function importRsa(jwk: RsaPrivateJwk): KeyObject {
  const { n, e, d, p, q, dp, dq, qi } = jwk;
  return createPrivateKey({ key: { kty: 'RSA', n, e, d, p, q, dp, dq, qi }, format: 'jwk' });
}

function fingerprintOf(jwk: RsaPrivateJwk): string {
  const hash = createHash('sha256');
  for (const member of [jwk.n, jwk.e, jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi]) {
    hash.update(member).update('.');
  }
  return hash.digest('base64');
}

/** n, d and the five CRT members are ~4.5 modulus lengths; OpenSSL's contexts add about as much again. */
function estimatedBytes(jwk: RsaPrivateJwk): number {
  return Math.ceil((jwk.n.length * 3) / 4) * 10;
}
