import { createHash } from 'node:crypto';
import { canonicalCopy, canonicalJson } from './canonical.js';
import type { AuditEventBody, RecordBody, SpooledEntry, SpooledRecord } from './record.js';

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
 * The record that follows `head`: numbered, linked to it, hashed; with its line. The members are
 * serialised once, in two runs split where `hash` goes (JSON.stringify writes each run, its
 * members put in canonical order first): the hash is taken over the two runs joined, and the
 * line is the same runs with the hash between them.
 */
export function linkRecord<B extends RecordBody>(body: B, head: ChainHead): SpooledEntry {
  const { before, after } = isPlainAuditEvent(body) ? auditEventRuns(body, head) : anyRuns(body, head);
  const first = membersOf(before);
  const second = membersOf(after);
  const unhashed = `{${first}${first && second ? ',' : ''}${second}}`;
  const hash = createHash('sha256').update(unhashed, 'utf8').digest('hex');
  const line = `{${first ? `${first},` : ''}"hash":"${hash}"${second ? `,${second}` : ''}}`;
  // The runs are this function's own objects: together with the hash they are the record.
  const record = Object.assign(before, after, { hash }) as unknown as SpooledRecord;
  return { record, line };
}

type Runs = { before: Record<string, unknown>; after: Record<string, unknown> };

/** The members of any record (and the chain's), sorted, split around where `hash` goes. */
function anyRuns(body: RecordBody, head: ChainHead): Runs {
  const unhashed: Record<string, unknown> = { ...body, sequence: head.sequence + 1, previousHash: head.hash };
  const runs: Runs = { before: {}, after: {} };
  for (const key of Object.keys(unhashed).sort()) {
    const value = unhashed[key];
    if (value !== undefined) runs[key < 'hash' ? 'before' : 'after'][key] = canonicalCopy(value);
  }
  return runs;
}

const AUDIT_EVENT_MEMBERS = 13;

/** A request or service record with exactly AuditEventBody's members (the shape of nearly every record). */
function isPlainAuditEvent(body: RecordBody): body is AuditEventBody {
  return body.category === 'AuditEvent' && Object.keys(body).length === AUDIT_EVENT_MEMBERS;
}

/**
 * anyRuns for the one shape written per request, as object literals already in canonical order:
 * building and sorting an object of arbitrary members cost more than the rest of the record.
 * chain.test.ts checks that both give the same bytes.
 */
function auditEventRuns(body: AuditEventBody, head: ChainHead): Runs {
  return {
    before: {
      callerIpAddress: body.callerIpAddress,
      category: body.category,
      correlationId: body.correlationId,
      durationMs: body.durationMs,
    },
    after: {
      identity: canonicalCopy(body.identity),
      operationName: body.operationName,
      operationVersion: body.operationVersion,
      previousHash: head.hash,
      properties: canonicalCopy(body.properties),
      resourceId: body.resourceId,
      resultDescription: body.resultDescription,
      resultSignature: body.resultSignature,
      resultType: body.resultType,
      sequence: head.sequence + 1,
      time: body.time,
    },
  };
}

/** An object's members as JSON writes them, without the braces ('' for none). */
function membersOf(value: Record<string, unknown>): string {
  return JSON.stringify(value).slice(1, -1);
}
