import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/server-process.js';

// CI runs only a short smoke of the benchmark (issue 6), so `npm run bench` keeps working:
// every scenario for a fraction of a second, checking the shape of the results.
describe('benchmark smoke', () => {
  it('runs every scenario briefly and writes results of the documented shape', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(repoRoot, 'bench/smoke.mjs')], {
      cwd: repoRoot,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.match(stdout, /bench smoke: ok \((\d+) scenario rows/);
  });

  it('runs the storage comparison briefly: SQLite, PostgreSQL with one node and with three', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repoRoot, 'bench/storage.mjs'), '--smoke'],
      {
        cwd: repoRoot,
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    assert.match(stdout, /bench storage smoke: ok \(10 rows, propagation p50 [\d.]+ ms\)/);
  });

  it('runs the workers comparison briefly: Coffer and the ceiling with 1 process and with 2', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repoRoot, 'bench/workers.mjs'), '--smoke', '--workers', '2'],
      { cwd: repoRoot, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.match(stdout, /bench workers smoke: ok \(6 rows, 2 workers\)/);
  });
});
