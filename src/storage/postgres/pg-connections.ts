import pg from 'pg';
import { ReadOnlyMode, StorageUnavailable } from '../../errors/index.js';
import { describeUrl, isConnectionFailure, storageError } from './pg-errors.js';
import { checkSchema, migrate } from './pg-schema.js';

export type StorageMode = 'starting' | 'read-write' | 'read-only' | 'unavailable';

export interface ConnectionSettings {
  url: string;
  readReplicaUrl?: string | undefined;
  maxConnections: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** How often an unhealthy node looks for a writable server again. */
  probeMs: number;
  log: PgLog;
}

export type PgLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** One configured server and its pool. */
export interface Endpoint {
  url: string;
  /** `host:port/db`, for messages: never the password. */
  where: string;
  pool: pg.Pool;
}

interface Look {
  endpoint: Endpoint;
  inRecovery?: boolean;
  problem?: string;
}

/**
 * Where reads and writes go. Writes go to the one configured server that accepts them (the
 * primary, or the replica once promoted); reads go there too, so they are never older than what
 * this installation acknowledged. When no server accepts writes but the replica answers, the
 * node is read-only: reads come from the replica and writes are refused with ReadOnlyMode. A
 * node keeps the writer it has while it answers (a returning old primary does not take over),
 * and refuses to choose when two servers accept writes, which only a split brain does.
 */
export class PgConnections {
  mode: StorageMode = 'starting';
  /** Set when the database can never serve this build (newer schema, wrong encoding). */
  fatal: Error | undefined;
  private writer: Endpoint | undefined;
  private readSource: Endpoint | undefined;
  private readonly endpoints: Endpoint[];
  private readonly migrated = new Set<Endpoint>();
  private readonly checked = new Set<Endpoint>();
  private problem = 'not connected yet';
  private probing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(writer: Endpoint | undefined) => void>();

  constructor(private readonly settings: ConnectionSettings) {
    const urls = [settings.url, settings.readReplicaUrl].filter((url): url is string => Boolean(url));
    this.endpoints = urls.map((url) => ({ url, where: describeUrl(url), pool: this.newPool(url) }));
  }

  /** Starts looking for a writable server; resolves after the first look. */
  start(): Promise<void> {
    this.timer = setInterval(() => {
      if (this.mode !== 'read-write') void this.probe();
    }, this.settings.probeMs);
    this.timer.unref();
    return this.probe();
  }

  get primaryWhere(): string {
    return this.endpoints[0]!.where;
  }

  /** Called with the new writer (undefined: none) whenever it changes. */
  onWriterChange(listener: (writer: Endpoint | undefined) => void): void {
    this.listeners.add(listener);
  }

  /** The server writes go to, or the 503 that says why there is none. */
  writable(): Endpoint {
    if (this.mode === 'read-write' && this.writer) return this.writer;
    if (this.mode === 'read-only') throw new ReadOnlyMode(Math.ceil(this.settings.probeMs / 1000) + 1);
    throw this.unavailable();
  }

  /**
   * Runs a read where reads go now; if that server fails, once more on the other one (the
   * replica while the primary is down, or a fresh connection): reads continue through a failover.
   */
  async read<T>(run: (pool: pg.Pool) => Promise<T>): Promise<T> {
    const first = this.mode === 'read-write' ? this.writer : this.readSource;
    if (!first) throw this.unavailable();
    try {
      return await run(first.pool);
    } catch (error) {
      if (!isConnectionFailure(error)) throw storageError(error, first.where, 'read');
      this.reportFailure(first);
      const second = this.endpoints.find((endpoint) => endpoint !== first) ?? first;
      try {
        return await run(second.pool);
      } catch (retryError) {
        throw storageError(retryError, second.where, 'read');
      }
    }
  }

  /** A connection to `endpoint` broke: look again at once rather than wait for the timer. */
  reportFailure(endpoint?: Endpoint): void {
    if (endpoint === undefined || endpoint === this.writer || endpoint === this.readSource) void this.probe();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.probing;
    await Promise.all(this.endpoints.map((endpoint) => endpoint.pool.end().catch(() => {})));
  }

  private unavailable(): StorageUnavailable {
    return new StorageUnavailable(
      `Coffer cannot reach its database (${this.primaryWhere}): ${this.problem}.`,
    );
  }

  private probe(): Promise<void> {
    this.probing ??= this.decide().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async decide(): Promise<void> {
    const looks = await Promise.all(this.endpoints.map((endpoint) => this.look(endpoint)));
    const writable = looks.filter((look) => look.inRecovery === false).map((look) => look.endpoint);
    let writer: Endpoint | undefined;
    if (writable.length === 1) writer = writable[0];
    else if (writable.length > 1 && this.writer && writable.includes(this.writer)) writer = this.writer;
    else if (writable.length > 1) {
      const problem = `${writable.map((endpoint) => endpoint.where).join(' and ')} both accept writes (a split brain): stop or fence the old primary`;
      if (problem !== this.problem) this.settings.log('error', `refusing to write: ${problem}`);
      this.problem = problem;
    }
    if (writer && (await this.ensureSchema(writer))) return this.become('read-write', writer, writer);
    const standby = looks.find((look) => look.inRecovery === true)?.endpoint;
    if (standby && (await this.ensureSchema(standby, 'read-only')))
      return this.become('read-only', undefined, standby);
    if (!writer) this.problem = looks.map((look) => look.problem).find(Boolean) ?? this.problem;
    this.become('unavailable', undefined, undefined);
  }

  private async look(endpoint: Endpoint): Promise<Look> {
    try {
      const result = await endpoint.pool.query<{ recovery: boolean }>(
        'SELECT pg_is_in_recovery() AS recovery',
      );
      return { endpoint, inRecovery: result.rows[0]?.recovery === true };
    } catch (error) {
      return { endpoint, problem: describeFailure(error) };
    }
  }

  /** Migrates (a writer) or checks (a standby) the schema once per server; a refusal is fatal. */
  private async ensureSchema(endpoint: Endpoint, access: 'read-write' | 'read-only' = 'read-write') {
    const ensured = access === 'read-write' ? this.migrated : this.checked;
    if (ensured.has(endpoint)) return true;
    try {
      const client = await endpoint.pool.connect();
      try {
        await (access === 'read-write' ? migrate(client) : checkSchema(client));
      } finally {
        client.release();
      }
      ensured.add(endpoint);
      return true;
    } catch (error) {
      if (isConnectionFailure(error)) return false;
      this.fatal = error instanceof Error ? error : new Error(String(error));
      this.problem = `${endpoint.where}: ${this.fatal.message}`;
      this.settings.log('error', `cannot use ${this.problem}`);
      return false;
    }
  }

  private become(mode: StorageMode, writer: Endpoint | undefined, readSource: Endpoint | undefined): void {
    const writerChanged = writer !== this.writer;
    if (mode !== this.mode || writerChanged) {
      const detail =
        mode === 'read-write'
          ? `writing to ${writer!.where}`
          : mode === 'read-only'
            ? `the primary is unreachable; reading from ${readSource!.where}, refusing writes`
            : this.problem;
      this.settings.log(mode === 'read-write' ? 'info' : 'warn', `storage ${mode}: ${detail}`);
    }
    this.mode = mode;
    this.writer = writer;
    this.readSource = readSource;
    if (writerChanged) for (const listener of this.listeners) listener(writer);
  }

  private newPool(url: string): pg.Pool {
    const { statementTimeoutMs, connectTimeoutMs } = this.settings;
    const pool = new pg.Pool({
      connectionString: url,
      max: this.settings.maxConnections,
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: statementTimeoutMs,
      // A dead server that sends nothing back is noticed client-side too.
      query_timeout: statementTimeoutMs + 2000,
      // A node that dies inside a transaction must not hold its row locks for long.
      idle_in_transaction_session_timeout: statementTimeoutMs * 2,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'coffer',
    });
    // An idle connection that breaks (the server went away) must not crash the process.
    pool.on('error', () => this.reportFailure());
    return pool;
  }
}

/** Our words for why a server is out of reach; driver messages may carry connection details. */
export function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === '28P01' || code === '28000') return 'authentication failed';
  if (code === '3D000') return 'the database does not exist';
  if (code === '57P03') return 'the server is starting up or shutting down';
  if (typeof code === 'string') return `error ${code}`;
  return /timeout/i.test((error as Error)?.message ?? '') ? 'connection timed out' : 'connection failed';
}
