import { createHash } from 'node:crypto';
import type { ClusteredStorage } from './cluster.js';

/** Rows per transaction: large enough to move fast, small enough to keep each commit short. */
const PAGE = 500;

export type CopyProgress = (phase: 'copy' | 'verify', done: number, total: number) => void;

/**
 * Moves an installation from one backend to another as it is stored: ciphertext under the same
 * paths (the barrier binds each record to its path, so nothing needs unsealing or re-encrypting),
 * and the live claims (the memory of used client assertions). The target must hold nothing: one
 * installation per database. Nothing may write to the source meanwhile (stop its servers).
 */
export async function copyInstallation(
  from: ClusteredStorage,
  to: ClusteredStorage,
  progress: CopyProgress = () => {},
): Promise<{ entries: number; claims: number }> {
  if ((await to.list('', { limit: 1 })).length > 0) {
    throw new Error(
      'the target already holds an installation (one installation per database): give it an empty one',
    );
  }
  const total = await countKeys(from);
  let done = 0;
  progress('copy', 0, total);
  for await (const keys of pages(from)) {
    const values = await Promise.all(keys.map((key) => from.get(key)));
    await to.transaction(async (tx) => {
      for (const [index, key] of keys.entries()) {
        const value = values[index];
        if (value !== undefined) await tx.put(key, value);
      }
    });
    done += keys.length;
    progress('copy', done, total);
  }
  const now = Date.now();
  const claims = await from.cluster.liveClaims(now);
  for (const claim of claims) await to.cluster.claim(claim.id, claim.untilMs, now);
  return { entries: done, claims: claims.length };
}

/**
 * Compares the two installations key by key (a merge of both key orders) and each value by its
 * SHA-256: a key missing on either side or holding other bytes is a mismatch. Returns how many,
 * and the first 20 of them.
 */
export async function verifyInstallation(
  from: ClusteredStorage,
  to: ClusteredStorage,
  progress: CopyProgress = () => {},
): Promise<{ entries: number; mismatched: number; mismatches: string[] }> {
  const total = await countKeys(from);
  const mismatches: string[] = [];
  let mismatched = 0;
  let checked = 0;
  const differs = (key: string) => {
    mismatched++;
    if (mismatches.length < 20) mismatches.push(key);
  };
  const source = keysOf(from);
  const target = keysOf(to);
  let a = await source.next();
  let b = await target.next();
  while (!a.done || !b.done) {
    const order = a.done ? 1 : b.done ? -1 : Buffer.compare(Buffer.from(a.value), Buffer.from(b.value));
    if (order < 0 || order > 0) differs(order < 0 ? a.value! : b.value!);
    else if (!(await sameValue(from, to, a.value!))) differs(a.value!);
    if (order <= 0) {
      a = await source.next();
      if (++checked % PAGE === 0) progress('verify', checked, total);
    }
    if (order >= 0) b = await target.next();
  }
  progress('verify', checked, total);
  return { entries: checked, mismatched, mismatches };
}

async function sameValue(from: ClusteredStorage, to: ClusteredStorage, key: string): Promise<boolean> {
  const [a, b] = await Promise.all([from.get(key), to.get(key)]);
  return a !== undefined && b !== undefined && digest(a) === digest(b);
}

function digest(value: Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

async function countKeys(storage: ClusteredStorage): Promise<number> {
  let count = 0;
  for await (const keys of pages(storage)) count += keys.length;
  return count;
}

async function* keysOf(storage: ClusteredStorage): AsyncGenerator<string> {
  for await (const keys of pages(storage)) yield* keys;
}

/** Every key, in key order, a page at a time. */
async function* pages(storage: ClusteredStorage): AsyncGenerator<string[]> {
  let after: string | undefined;
  for (;;) {
    const keys = await storage.list('', { after, limit: PAGE });
    if (keys.length === 0) return;
    yield keys;
    after = keys[keys.length - 1];
  }
}
