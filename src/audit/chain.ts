import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { RecordBody, SpooledEntry, SpooledRecord } from './record.js';

/** The `previousHash` of the first record of an installation. */
export const GENESIS_HASH = '0'.repeat(64);

/** Where the chain stands: the last record written (sequence 0 and GENESIS_HASH before any). */
export interface ChainHead {
  sequence: number;
  hash: string;
}

export const EMPTY_CHAIN: ChainHead = { sequence: 0, hash: GENESIS_HASH };

/** SHA-256 (hex) of a record's canonical form without its `hash` member. */
export function recordHash(record: Omit<SpooledRecord, 'hash'> | SpooledRecord): string {
  return createHash('sha256')
    .update(canonicalJson(without(record, 'hash')), 'utf8')
    .digest('hex');
}

/** A shallow copy of `value` without the named members. */
export function without(value: object, ...keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
}

/** The record that follows `head`: numbered, linked to it, hashed; with its line. */
export function linkRecord<B extends RecordBody>(body: B, head: ChainHead): SpooledEntry {
  const unhashed = { ...body, sequence: head.sequence + 1, previousHash: head.hash };
  const record = { ...unhashed, hash: recordHash(unhashed as SpooledRecord) } as SpooledRecord;
  return { record, line: canonicalJson(record) };
}
