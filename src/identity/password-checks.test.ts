import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Throttled } from '../errors/index.js';
import { createPasswordChecks } from './password-checks.js';
import { hashPassword } from './password-hash.js';
import type { PasswordHashRecord } from './types.js';

describe('password checks: bounded, and the same for unknown users without hashing', () => {
  let stored: PasswordHashRecord;
  before(async () => {
    stored = await hashPassword('correct horse battery staple', new Date(0).toISOString());
  });

  it('checks a known user’s password with scrypt, and learns how long a check takes', async () => {
    const checks = createPasswordChecks({ concurrent: 1, queued: 4 });
    assert.equal(await checks.verify('correct horse battery staple', stored), true);
    assert.equal(await checks.verify('wrong horse battery staple', stored), false);
    assert.equal(
      await checks.verify('x'.repeat(300), stored),
      false,
      'too long is wrong, after the same work',
    );
    const { hashes, typicalMs } = checks.stats();
    assert.equal(hashes, 3);
    assert.ok(typicalMs !== undefined && typicalMs > 0);
  });

  it('answers an unknown user after the typical time, hashing once to calibrate and never per request', async () => {
    const checks = createPasswordChecks({ concurrent: 2, queued: 8 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => checks.verify('any guess', undefined)),
    );
    assert.deepEqual(answers, Array(10).fill(false));
    assert.equal(checks.stats().hashes, 1, 'one calibration hash for ten unknown users');
    await checks.verify('another guess', undefined);
    assert.equal(checks.stats().hashes, 1);
  });

  it('refuses with 429 when the running and queued checks are full, known or unknown user alike', async () => {
    const checks = createPasswordChecks({ concurrent: 1, queued: 1 });
    await checks.verify('calibrate', undefined);
    const running = checks.verify('guess one', undefined);
    const queued = checks.verify('guess two', stored);
    for (const record of [stored, undefined]) {
      await assert.rejects(checks.verify('guess three', record), (error: unknown) => {
        assert.ok(error instanceof Throttled);
        assert.equal(error.status, 429);
        assert.equal(error.headers['retry-after'], '1');
        return true;
      });
    }
    assert.deepEqual(await Promise.all([running, queued]), [false, false]);
    assert.equal(await checks.verify('correct horse battery staple', stored), true, 'room again afterwards');
  });
});
