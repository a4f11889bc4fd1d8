import { createHash } from 'node:crypto';
import { canonicalJson, canonicalMembers } from './canonical.js';
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

/**
 * The record that follows `head`: numbered, linked to it, hashed; with its line. Each member is
 * serialised once: the hash is taken over the members, and the line is the same members with
 * the hash put in its place.
 */
export function linkRecord<B extends RecordBody>(body: B, head: ChainHead): SpooledEntry {
  const unhashed = { ...body, sequence: head.sequence + 1, previousHash: head.hash };
  const members = canonicalMembers(unhashed as unknown as Record<string, unknown>);
  const hash = createHash('sha256')
    .update(`{${members.join(',')}}`, 'utf8')
    .digest('hex');
  const hashMember = `"hash":${JSON.stringify(hash)}`;
  const at = members.findIndex((member) => member > hashMember);
  members.splice(at < 0 ? members.length : at, 0, hashMember);
  return { record: { ...unhashed, hash } as SpooledRecord, line: `{${members.join(',')}}` };
}
