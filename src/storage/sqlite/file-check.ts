import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { lockDataFile } from './data-file-lock.js';

/** SQLite's own verdict on a data file: `ok`, or the problems it lists (at most `limit`). */
export interface FileCheck {
  ok: boolean;
  problems: string[];
}

/**
 * `quick_check` (at every start: the b-tree structure, in time linear in the file) or
 * `integrity_check` (on request: also the order of keys and the free lists). A file so damaged
 * that SQLite refuses to read it is a problem too, not a crash. Neither verifies the bytes of a
 * value: the barrier's authentication tag does, for each record as it is read, and
 * `coffer operator check` reads them all.
 */
export function checkDataFile(db: Database.Database, kind: 'quick' | 'full', limit = 100): FileCheck {
  try {
    const pragma = kind === 'quick' ? 'quick_check' : 'integrity_check';
    const rows = db.pragma(`${pragma}(${limit})`) as Array<Record<string, string>>;
    const problems = rows.map((row) => Object.values(row)[0] ?? '').flatMap((text) => text.split('\n'));
    const ok = problems.length === 1 && problems[0] === 'ok';
    return { ok, problems: ok ? [] : problems };
  } catch (error) {
    return { ok: false, problems: [describeSqliteError(error)] };
  }
}

/** `integrity_check` on its own read-only connection, for a check that must not block writers. */
export function checkDataFileAt(file: string, kind: 'quick' | 'full'): FileCheck {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    return { ok: false, problems: [describeSqliteError(error)] };
  }
  try {
    return checkDataFile(db, kind);
  } finally {
    db.close();
  }
}

/**
 * The offline check of a stopped server's data file. It takes the data dir's lock, so it never
 * runs beside a server (which checks its own store online).
 */
export function checkStoppedDataFile(file: string): FileCheck {
  if (!existsSync(file)) throw new Error(`${file} does not exist. Check the --data-dir path.`);
  let lock: Database.Database;
  try {
    lock = lockDataFile(file);
  } catch {
    throw new Error(
      `a server is running on ${path.dirname(file)}: check it online with \`coffer operator check\` (without --data-dir), or stop it first.`,
    );
  }
  try {
    return checkDataFileAt(file, 'full');
  } finally {
    lock.close();
  }
}

export function isDamageError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_INDEX';
}

function describeSqliteError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`;
}

/** Refused at start: SQLite itself finds the data file damaged. Says what happened and what to do. */
export class StoreDamaged extends Error {
  constructor(file: string, problems: string[]) {
    const shown = problems.slice(0, 3).join('; ');
    super(
      `${file} is damaged: SQLite's quick_check found ${problems.length} problem(s): ${shown}. ` +
        'Coffer will not serve a damaged store. Keep the damaged files for analysis, and restore the data ' +
        'directory from the latest backup (docs/fault-tolerance.md, "Restoring from a backup"); ' +
        `\`coffer operator check --data-dir ${path.dirname(file)}\` lists every problem.`,
    );
    this.name = 'StoreDamaged';
  }
}
