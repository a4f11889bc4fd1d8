import Database from 'better-sqlite3';

/**
 * How a process holds FILE: `exclusive`, a lone server (the default, and dev mode), or `member`,
 * one of several processes of one installation (`coffer server --workers N`) that keep their
 * caches in agreement through the change table (sqlite-cluster.ts).
 */
export type DataFileMode = 'exclusive' | 'member';

/**
 * Claims FILE for this process through a SQLite lock on `FILE.lock`, held for as long as the
 * returned connection is open and released by the operating system if the process dies. A lone
 * server takes it exclusively: it skips the change table, so a second process would keep caches
 * blind to its writes, and is refused. Members share it (a read lock each): any number of them
 * may run together, but never beside a lone server.
 */
export function lockDataFile(file: string, mode: DataFileMode = 'exclusive'): Database.Database {
  // A short wait covers a previous server that is still closing during a quick restart.
  const lock = new Database(`${file}.lock`, { timeout: 2000 });
  try {
    if (mode === 'exclusive') {
      lock.pragma('locking_mode = EXCLUSIVE');
      lock.exec('BEGIN EXCLUSIVE');
    } else {
      // A read transaction left open holds SQLite's SHARED lock, which others may share.
      lock.exec('BEGIN');
      lock.prepare('SELECT count(*) FROM sqlite_master').get();
    }
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw refusal(file, mode, error);
    throw error;
  }
  return lock;
}

function refusal(file: string, mode: DataFileMode, cause: unknown): Error {
  const message =
    mode === 'exclusive'
      ? `another Coffer process is using ${file}: stop it first, or give this one its own --data-dir.`
      : `a single-process Coffer server holds ${file}: stop it before starting workers on the same --data-dir.`;
  return new Error(message, { cause });
}
