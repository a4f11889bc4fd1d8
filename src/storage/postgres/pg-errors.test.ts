import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatabaseError } from 'pg';
import { StorageFull, StorageUnavailable } from '../../errors/index.js';
import { storageError } from './pg-errors.js';

/** What the driver throws for a SQLSTATE, as the server sends it. */
function driverError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, 0, 'error');
  error.code = code;
  return error;
}

describe('PostgreSQL errors as callers see them', () => {
  it('a full disk on the database server answers as a full disk does on SQLite: 503, Retry-After 10, nothing written', () => {
    const mapped = storageError(
      driverError('53100', 'could not extend file "base/16384/16385": No space left on device'),
      'db.example:5432/coffer',
      'write',
    );
    assert.ok(mapped instanceof StorageFull, String(mapped));
    assert.equal(mapped.status, 503);
    assert.equal(mapped.headers['retry-after'], '10');
    assert.match(mapped.message, /storage is full\. Nothing was written/);
    assert.doesNotMatch(mapped.message, /base\/16384/, 'never the driver text');
  });

  it('other refusals name the SQLSTATE and the database by host only', () => {
    const mapped = storageError(
      driverError('42P01', 'relation "x" does not exist'),
      'db:5432/coffer',
      'read',
    );
    assert.ok(mapped instanceof StorageUnavailable);
    assert.match(mapped.message, /The database \(db:5432\/coffer\) refused the read \(SQLSTATE 42P01\)/);
  });
});
