import { CofferError, StorageFull, StorageUnavailable } from '../../errors/index.js';

/** SQLSTATEs and socket errors, sorted by what the caller should do about them. */

/** Retry the whole transaction: another one won, nothing of this one was committed. */
export function isSerializationFailure(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40001' || code === '40P01';
}

/**
 * The server is unreachable or went away (refused, reset, shut down, timed out, or a standby
 * that cannot take writes): the connection is useless and another server may have to serve.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof CofferError) return false;
  const code = sqlState(error);
  if (code !== undefined) {
    return code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '25006'].includes(code);
  }
  const nodeCode = (error as { code?: unknown })?.code;
  if (typeof nodeCode === 'string' && /^E[A-Z]+$/.test(nodeCode)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|timeout exceeded|Query read timeout|Client has encountered a connection error|not queryable|Client was closed/i.test(
    message,
  );
}

/** The statement ran past statement_timeout (or was cancelled): the server lives but is slow. */
export function isTimeout(error: unknown): boolean {
  return sqlState(error) === '57014' || /Query read timeout/i.test((error as Error)?.message ?? '');
}

/**
 * What a caller sees: our own errors (and the caller's, thrown from inside a transaction)
 * unchanged; a driver error becomes a 503 naming the database by host only, so neither a
 * password from the URL nor a driver message with data in it ever reaches a client or a log.
 */
export function storageError(error: unknown, where: string, during: 'read' | 'write' | 'commit'): unknown {
  if (sqlState(error) === undefined && !isConnectionFailure(error)) return error;
  if (isTimeout(error)) return new StorageUnavailable(`The database (${where}) did not answer in time.`);
  // disk_full: the same answer as SQLite's full disk (nothing was written; retry later).
  if (sqlState(error) === '53100') return new StorageFull();
  if (isConnectionFailure(error)) {
    if (during === 'commit') {
      return new StorageUnavailable(
        `The connection to the database (${where}) was lost while committing: the change may or may not have been saved.`,
      );
    }
    return new StorageUnavailable(`Coffer cannot reach its database (${where}) right now.`);
  }
  return new StorageUnavailable(
    `The database (${where}) refused the ${during} (SQLSTATE ${sqlState(error)}).`,
  );
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown; severity?: unknown } | undefined)?.code;
  // Driver (DatabaseError) codes are five-character SQLSTATEs; socket codes start with 'E' and are longer.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^E[A-Z]{4}$/.test(code)
    ? code
    : undefined;
}

/** `host:port/db`: no user, no password, for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured database';
  }
}
