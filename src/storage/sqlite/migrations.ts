import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order inside one transaction and recorded in user_version.
 * Append new steps; never edit a released one.
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec('CREATE TABLE entries (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID');
  },
  // Several processes over one file (sqlite-cluster.ts): the change table they poll, shared
  // claims (client assertion ids) and who is running.
  (db) => {
    db.exec(`
      CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, member TEXT NOT NULL, at_ms INTEGER NOT NULL,
        keys TEXT, topic TEXT, body TEXT);
      CREATE TABLE claims (id TEXT PRIMARY KEY NOT NULL, until_ms INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX claims_until ON claims (until_ms);
      CREATE TABLE members (
        id TEXT PRIMARY KEY NOT NULL, url TEXT, started_ms INTEGER NOT NULL,
        seen_ms INTEGER NOT NULL, leader INTEGER NOT NULL) WITHOUT ROWID;
    `);
  },
];

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the data dir was written by a newer Coffer (schema ${current}, this build knows ${MIGRATIONS.length}); upgrade Coffer`,
    );
  }
  if (current === MIGRATIONS.length) return;
  db.transaction(() => {
    for (let step = current; step < MIGRATIONS.length; step++) MIGRATIONS[step]!(db);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

export const SCHEMA_VERSION = MIGRATIONS.length;
