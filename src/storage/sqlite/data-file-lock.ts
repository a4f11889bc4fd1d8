import Database from 'better-sqlite3';

/**
 * Claims FILE for this process: an exclusive SQLite lock on `FILE.lock`, held for as long as the
 * returned connection is open and released by the operating system if the process dies. A
 * second server on the same data directory would keep its own caches (rows, role grants, token
 * replays) blind to this one's writes, so it is refused at start-up instead.
 */
export function lockDataFile(file: string): Database.Database {
  // A short wait covers a previous server that is still closing during a quick restart.
  const lock = new Database(`${file}.lock`, { timeout: 2000 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(
        `another Coffer process is using ${file}: stop it first, or give this one its own --data-dir.`,
        { cause: error },
      );
    }
    throw error;
  }
  return lock;
}
