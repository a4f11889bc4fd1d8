import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, recordHash } from './chain.js';
import { checkpointSignatureValid, keyIdOf } from './checkpoint-key.js';
import { type CheckpointRecord, isCheckpoint, type SpooledRecord } from './record.js';

/**
 * Offline verification of an audit log (`coffer audit verify`): fed the lines of the log files
 * in order, it proves the log complete and unmodified, or names the first record where it is
 * not. Pure: no I/O, so the CLI streams files into it and tests feed it lines.
 */

export interface VerifyOptions {
  /** The trusted checkpoint keys (from `--public-key`). */
  publicKeys: KeyObject[];
  /** Where the given files are expected to start, when older files were removed on purpose. */
  fromSequence?: number;
  /** The server may still be writing: accept records after the last checkpoint. */
  live?: boolean;
}

/** Where a problem is: the file and line, and the record's sequence when it could be read. */
export interface Problem {
  file: string;
  line: number;
  sequence?: number;
  message: string;
}

export interface VerifySummary {
  records: number;
  checkpoints: number;
  firstSequence?: number;
  lastSequence?: number;
  lastCheckpoint?: { sequence: number; time: string; reason: string };
  /** Records after the last checkpoint (accepted only with `live`). */
  unsignedTail: number;
}

interface Position {
  file: string;
  line: number;
  record: SpooledRecord;
}

export class LogVerifier {
  private readonly keys: Map<string, KeyObject>;
  private previous: Position | undefined;
  private lastSigned: Position | undefined;
  private records = 0;
  private checkpoints = 0;
  private firstSequence: number | undefined;
  private problem: Problem | undefined;

  constructor(private readonly options: VerifyOptions) {
    this.keys = new Map(options.publicKeys.map((key) => [keyIdOf(key), key]));
  }

  /** Checks one line; once a problem is found, later lines are ignored. */
  feed(file: string, line: number, text: string): void {
    if (this.problem || text.trim() === '') return;
    const record = parseRecord(text);
    const at = (message: string, where: Position | undefined = undefined): void => {
      this.problem = where
        ? { file: where.file, line: where.line, sequence: where.record.sequence, message }
        : { file, line, sequence: record?.sequence, message };
    };
    if (!record) return at('this line is not an audit record: the file was edited or damaged here');
    if (recordHash(record) !== record.hash)
      return at(`record ${record.sequence} was edited: its content does not match its hash`);
    const position = { file, line, record };
    const order = this.checkOrder(record);
    if (order) return at(order.message, order.blame === 'previous' ? this.previous : undefined);
    if (isCheckpoint(record)) {
      const invalid = this.checkCheckpoint(record);
      if (invalid) return at(invalid);
      this.checkpoints++;
      this.lastSigned = position;
    }
    this.firstSequence ??= record.sequence;
    this.records++;
    this.previous = position;
  }

  /** The verdict once every line is fed: the first problem, if any, and what was proven. */
  finish(): { problem?: Problem; summary: VerifySummary } {
    const summary = this.summary();
    if (this.problem) return { problem: this.problem, summary };
    const last = this.previous;
    if (!last) return { problem: { file: '', line: 0, message: 'the files hold no audit record' }, summary };
    if (this.options.live) return { summary };
    const signed = this.lastSigned?.record.sequence ?? 0;
    const reason = (this.lastSigned?.record as CheckpointRecord | undefined)?.reason;
    const cutOff =
      'records were cut off the end (truncated), or the server is still writing (pass --live to accept that)';
    const atEnd = (message: string) => ({
      problem: {
        file: last.file,
        line: last.line,
        sequence: last.record.sequence,
        message: `${message}: ${cutOff}`,
      },
      summary,
    });
    if (signed < last.record.sequence)
      return atEnd(
        `the log ends at record ${last.record.sequence}, and no checkpoint signs the records after ${signed}`,
      );
    if (reason !== 'shutdown' && reason !== 'seal')
      return atEnd(
        `the log ends at an '${reason}' checkpoint (record ${last.record.sequence}), not at a shutdown`,
      );
    return { summary };
  }

  private checkOrder(record: SpooledRecord): { message: string; blame?: 'previous' } | undefined {
    const previous = this.previous?.record;
    if (!previous) {
      const expected = this.options.fromSequence ?? 1;
      if (record.sequence > expected) {
        return {
          message:
            `the log starts at record ${record.sequence}, so records ${expected} to ${record.sequence - 1} are missing (deleted)` +
            (this.options.fromSequence === undefined
              ? `; if older files were removed on purpose, pass --from-sequence ${record.sequence}`
              : ''),
        };
      }
      if (record.sequence < expected)
        return { message: `the log starts at record ${record.sequence}, before --from-sequence ${expected}` };
      if (record.sequence === 1 && record.previousHash !== GENESIS_HASH)
        return { message: 'record 1 does not start the chain (its previousHash is not the genesis hash)' };
      return undefined;
    }
    const expected = previous.sequence + 1;
    if (record.sequence > expected) {
      const gap =
        record.sequence - 1 === expected
          ? `record ${expected} is`
          : `records ${expected} to ${record.sequence - 1} are`;
      return { message: `${gap} missing before record ${record.sequence} (deleted)` };
    }
    if (record.sequence < expected) {
      return {
        message: `record ${record.sequence} comes after record ${previous.sequence}: the log was reordered, or a record was duplicated`,
      };
    }
    if (record.previousHash !== previous.hash) {
      // A record re-hashed after an edit is caught here, at the record that still names the original.
      return {
        message: `record ${previous.sequence} was edited (or replaced): record ${record.sequence} names a different record before it`,
        blame: 'previous',
      };
    }
    return undefined;
  }

  private checkCheckpoint(record: CheckpointRecord): string | undefined {
    const key = this.keys.get(record.keyId);
    if (!key) {
      return `checkpoint ${record.sequence} is signed by key ${String(record.keyId).slice(0, 60)}, which is not a trusted key (--public-key): forged, or verify was given the wrong key`;
    }
    if (!checkpointSignatureValid(record, key)) {
      const since = (this.lastSigned?.record.sequence ?? 0) + 1;
      return (
        `checkpoint ${record.sequence} does not carry a valid signature: it was forged, or records ${since} to ` +
        `${record.sequence} were edited and re-chained (the first bad record is among them)`
      );
    }
    return undefined;
  }

  private summary(): VerifySummary {
    const checkpoint = this.lastSigned?.record as CheckpointRecord | undefined;
    return {
      records: this.records,
      checkpoints: this.checkpoints,
      firstSequence: this.firstSequence,
      lastSequence: this.previous?.record.sequence,
      lastCheckpoint: checkpoint && {
        sequence: checkpoint.sequence,
        time: checkpoint.time,
        reason: checkpoint.reason,
      },
      unsignedTail: (this.previous?.record.sequence ?? 0) - (checkpoint?.sequence ?? 0),
    };
  }
}

function parseRecord(text: string): SpooledRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const record = value as Partial<SpooledRecord>;
    if (
      !Number.isSafeInteger(record.sequence) ||
      typeof record.hash !== 'string' ||
      typeof record.previousHash !== 'string' ||
      typeof record.category !== 'string'
    )
      return undefined;
    return record as SpooledRecord;
  } catch {
    return undefined;
  }
}
