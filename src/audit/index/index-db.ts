import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CLAIMS } from '../record.js';

/**
 * The query index: a SQLite side table of the audit records, one row per request record with
 * the columns queries filter on, and the record's line beside it. It is derived data (its
 * cursor commits with its rows; a lost index is rebuilt from what the spool still holds), so it
 * runs with synchronous=NORMAL and never slows a request: it lives on a worker thread.
 */

export interface IndexQuery {
  /** Milliseconds since the epoch, inclusive. */
  since?: number;
  until?: number;
  /** `/vaults/{name}` or `/` (installation-level requests). */
  resource?: string;
  operation?: string;
  /** An object id, client (app) id or user principal name. */
  caller?: string;
  /** `Success`, `Failure` or an HTTP status code. */
  result?: string;
  /** Object keys as indexed (`secrets/name`), any of which matches. */
  objects?: string[];
  /** Paging: records after (ascending) or before (descending) this sequence. */
  cursor?: number;
  /** Records up to this sequence only (a merged query bounds each chain by its head when it began). */
  through?: number;
  order: 'asc' | 'desc';
  limit: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  sequence INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  resource TEXT NOT NULL,
  operation TEXT NOT NULL,
  caller TEXT,
  app TEXT,
  upn TEXT,
  status INTEGER NOT NULL,
  result TEXT NOT NULL,
  object TEXT,
  line TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_time ON records (time_ms);
CREATE INDEX IF NOT EXISTS records_resource ON records (resource, time_ms);
-- Failures are few and what reviews look for first: a small index of their own.
CREATE INDEX IF NOT EXISTS records_failures ON records (resource, time_ms) WHERE result = 'Failure';
CREATE INDEX IF NOT EXISTS records_object ON records (object, time_ms) WHERE object IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_caller ON records (caller, time_ms) WHERE caller IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_app ON records (app, time_ms) WHERE app IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_upn ON records (upn, time_ms) WHERE upn IS NOT NULL;
`;

/** The object a record is about, as `{kind}/{name}` from its `properties.id`. */
export function objectKey(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const match = /^https:\/\/[^/]+\/(secrets|keys|certificates)\/([^/?#]+)/.exec(id);
  return match ? `${match[1]}/${match[2]!.toLowerCase()}` : undefined;
}

interface Row {
  sequence: number;
  time_ms: number;
  resource: string;
  operation: string;
  caller: string | null;
  app: string | null;
  upn: string | null;
  status: number;
  result: string;
  object: string | null;
  line: string;
}

/** The indexed columns of a request record; undefined for what is not indexed (checkpoints). */
export function rowOf(line: string): Row | undefined {
  const record = JSON.parse(line) as Record<string, unknown>;
  if (record['category'] !== 'AuditEvent') return undefined;
  const claim = ((record['identity'] as { claim?: Record<string, string> })?.claim ?? {}) as Record<
    string,
    string
  >;
  const properties = (record['properties'] ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value.toLowerCase() : null);
  return {
    sequence: record['sequence'] as number,
    time_ms: Date.parse(String(record['time'])) || 0,
    resource: String(record['resourceId'] ?? '/').toLowerCase(),
    operation: String(record['operationName'] ?? ''),
    caller: text(claim[CLAIMS.objectId]),
    app: text(claim[CLAIMS.appId]),
    upn: text(claim[CLAIMS.upn]),
    status: Number(properties['httpStatusCode'] ?? 0),
    result: String(record['resultType'] ?? ''),
    object: objectKey(properties['id']) ?? null,
    line,
  };
}

/** An indexed record as a merged query needs it: its place in its chain and in time. */
export interface IndexedRow {
  sequence: number;
  timeMs: number;
  line: string;
}

/**
 * Reads an index: its own (through IndexDb) or, with `--workers N`, a sibling worker's opened
 * read-only (SQLite never writes a database or its WAL through a read-only connection).
 */
export class IndexReader {
  protected constructor(protected readonly db: Database.Database) {}

  /** A sibling's index, written by another process: never created, migrated or written from here. */
  static openReadOnly(file: string): IndexReader {
    return new IndexReader(new Database(file, { readonly: true, fileMustExist: true }));
  }

  /** The last sequence indexed (checkpoints included), 0 for an empty index. */
  cursor(): number {
    const row = this.db.prepare('SELECT sequence FROM cursor WHERE id = 1').get() as
      { sequence: number } | undefined;
    return row?.sequence ?? 0;
  }

  /** The lines of the records that match, in sequence order (or reverse), at most `limit`. */
  query(query: IndexQuery): string[] {
    return this.rows(query).map((row) => row.line);
  }

  /** As `query`, with each record's sequence and time. */
  rows(query: IndexQuery): IndexedRow[] {
    const { sql, values } = selectOf(query);
    return this.db.prepare(sql).all(...values, query.limit) as IndexedRow[];
  }

  close(): void {
    this.db.close();
  }
}

function selectOf(query: IndexQuery): { sql: string; values: Array<string | number> } {
  const where: string[] = [];
  const values: Array<string | number> = [];
  const add = (clause: string, ...parameters: Array<string | number>) => {
    where.push(clause);
    values.push(...parameters);
  };
  if (query.since !== undefined) add('r.time_ms >= ?', query.since);
  if (query.until !== undefined) add('r.time_ms <= ?', query.until);
  if (query.resource !== undefined) add('r.resource = ?', query.resource.toLowerCase());
  if (query.operation !== undefined) add('r.operation = ? COLLATE NOCASE', query.operation);
  if (query.caller !== undefined) {
    const caller = query.caller.toLowerCase();
    add('(r.caller = ? OR r.app = ? OR r.upn = ?)', caller, caller, caller);
  }
  if (query.result !== undefined) {
    if (/^\d{3}$/.test(query.result)) add('r.status = ?', Number(query.result));
    // Written out, not bound: SQLite uses the partial index of failures only for this literal.
    else add(query.result.toLowerCase() === 'failure' ? "r.result = 'Failure'" : "r.result = 'Success'");
  }
  if (query.objects !== undefined) {
    add(
      `r.object IN (${query.objects.map(() => '?').join(', ')})`,
      ...query.objects.map((o) => o.toLowerCase()),
    );
  }
  if (query.cursor !== undefined)
    add(query.order === 'asc' ? 'r.sequence > ?' : 'r.sequence < ?', query.cursor);
  if (query.through !== undefined) add('r.sequence <= ?', query.through);
  const sql =
    `SELECT r.sequence AS sequence, r.time_ms AS timeMs, r.line AS line FROM records r` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY r.sequence ${query.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
  return { sql, values };
}

/** The index a worker (or a lone server) writes. */
export class IndexDb extends IndexReader {
  private readonly insertRecord: Database.Statement;
  private readonly setCursor: Database.Statement;

  constructor(file: string) {
    // Records name callers and objects: the index (and its -wal and -shm, which SQLite makes with
    // the same mode) is for the server's user only.
    closeSync(openSync(file, 'a', 0o600));
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    super(db);
    this.insertRecord = this.db.prepare(
      `INSERT OR REPLACE INTO records VALUES (@sequence, @time_ms, @resource, @operation, @caller, @app, @upn, @status, @result, @object, @line)`,
    );
    this.setCursor = this.db.prepare('INSERT OR REPLACE INTO cursor VALUES (1, ?)');
  }

  /** Indexes records and moves the cursor to `through` in one transaction. */
  insert(lines: string[], through: number): void {
    this.db.transaction(() => {
      for (const line of lines) {
        const row = rowOf(line);
        if (!row) continue;
        this.insertRecord.run(row);
      }
      this.setCursor.run(through);
    })();
  }
}
