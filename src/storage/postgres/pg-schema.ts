import type pg from 'pg';

/**
 * The tables of one installation, in the database the URL names (one installation per
 * database; put several in one server with one database each). Keys sort by their bytes
 * (COLLATE "C" over UTF-8), the order the storage interface promises. Append new steps; never
 * edit a released one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE coffer_entries (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
   CREATE TABLE coffer_claims (id text COLLATE "C" PRIMARY KEY, until_ms bigint NOT NULL);
   CREATE INDEX coffer_claims_until ON coffer_claims (until_ms);
   CREATE TABLE coffer_members (
     id text PRIMARY KEY, url text, started_at timestamptz NOT NULL,
     seen_at timestamptz NOT NULL, leader boolean NOT NULL DEFAULT false);`,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Advisory lock keys, per database: 'Coffer' in ASCII, then a number per purpose. */
export const MIGRATION_LOCK = '74085326714368001';
export const LEADER_LOCK = '74085326714368002';

/**
 * Brings the schema up to date, one node at a time (an advisory lock), and refuses a database
 * that a newer Coffer wrote or whose encoding would break the key order.
 */
export async function migrate(client: pg.ClientBase): Promise<void> {
  const encoding = (await client.query<{ server_encoding: string }>('SHOW server_encoding')).rows[0]
    ?.server_encoding;
  if (encoding !== 'UTF8') {
    throw new Error(
      `the database uses encoding ${encoding}; Coffer needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)`,
    );
  }
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS coffer_schema (version integer NOT NULL)');
    const current = await schemaVersion(client);
    if (current > MIGRATIONS.length) throw newerSchema(current);
    if (current === MIGRATIONS.length) return;
    await client.query('BEGIN');
    try {
      for (let step = current; step < MIGRATIONS.length; step++) await client.query(MIGRATIONS[step]!);
      await client.query('DELETE FROM coffer_schema');
      await client.query('INSERT INTO coffer_schema (version) VALUES ($1)', [MIGRATIONS.length]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

/** A read-only server (a standby) cannot migrate: it must already hold a schema this build reads. */
export async function checkSchema(client: pg.ClientBase): Promise<void> {
  const exists = await client.query("SELECT to_regclass('coffer_schema') IS NOT NULL AS present");
  const current = exists.rows[0]?.present ? await schemaVersion(client) : 0;
  if (current === 0) throw new Error('the database holds no Coffer installation yet');
  if (current > MIGRATIONS.length) throw newerSchema(current);
}

async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const rows = (await client.query<{ version: number }>('SELECT version FROM coffer_schema')).rows;
  return rows[0]?.version ?? 0;
}

function newerSchema(current: number): Error {
  return new Error(
    `the database was written by a newer Coffer (schema ${current}, this build knows ${MIGRATIONS.length}); upgrade Coffer`,
  );
}
