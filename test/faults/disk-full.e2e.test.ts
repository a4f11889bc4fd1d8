import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { adminToken, rawRequest } from '../helpers/http.js';
import { scratchDir } from '../helpers/server-process.js';
import { SmallDisk } from '../helpers/small-disk.js';

const unsupported = SmallDisk.supported()
  ? false
  : 'this machine does not let an unprivileged process mount a tmpfs in its own namespace (unshare -rm)';

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/**
 * A full disk, for real: the data dir is a tmpfs of a few MiB that a ballast file fills up, so
 * SQLite meets ENOSPC exactly as on a full production disk (issue 11, item 10).
 */
describe('disk full', { skip: unsupported }, () => {
  it('writes answer 503 with Retry-After, nothing is half-written, /readyz says so, and it recovers', async () => {
    const disk = await SmallDisk.mount(6 * 1024);
    try {
      // The audit log on another disk: this test is about the store. With the audit log on a full
      // disk too, every request would answer 503 (audit.failClosed), as docs/audit.md says.
      const server = await disk.startDevServer({ COFFER_AUDIT_DIR: scratchDir('audit-elsewhere') });
      const facts = await server.ready();
      assert.ok(facts, server.log);
      const token = await adminToken(facts);
      const api = (method: string, path: string, body?: unknown) =>
        rawRequest(`${facts.vaultUrl}${path}?api-version=7.6`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const readyz = () => rawRequest(`${facts.url}/readyz`);
      const versionsOf = async (name: string) =>
        ((await api('GET', `/secrets/${name}/versions`)).json() as { value: unknown[] }).value.length;
      assert.equal((await api('PUT', '/secrets/kept', { value: 'before' })).status, 200);

      await disk.fill();
      const big = 'x'.repeat(20_000);
      let refused: { name: string; response: Awaited<ReturnType<typeof api>> } | undefined;
      for (let index = 0; index < 400 && !refused; index++) {
        const response = await api('PUT', `/secrets/fill-${index}`, { value: big });
        if (response.status !== 200) refused = { name: `fill-${index}`, response };
      }
      assert.ok(refused, 'the disk filled up');
      assert.equal(refused.response.status, 503, refused.response.text);
      assert.equal(refused.response.headers['retry-after'], '10');
      assert.deepEqual(Object.keys((refused.response.json() as { error: object }).error), [
        'code',
        'message',
      ]);
      assert.equal((refused.response.json() as { error: { code: string } }).error.code, 'ServiceUnavailable');
      assert.match(
        (refused.response.json() as { error: { message: string } }).error.message,
        /storage is full/,
      );

      // Nothing half-written: the refused secret does not exist, a refused update changed nothing.
      assert.equal((await api('GET', `/secrets/${refused.name}`)).status, 404);
      assert.equal((await api('PUT', '/secrets/kept', { value: 'during' })).status, 503);
      assert.equal(
        (await api('GET', '/secrets/kept')).json() &&
          ((await api('GET', '/secrets/kept')).json() as { value: string }).value,
        'before',
      );
      assert.equal(await versionsOf('kept'), 1);
      const notReady = await readyz();
      assert.equal(notReady.status, 503);
      assert.deepEqual(notReady.json(), { status: 'storage-full' });

      await disk.free();
      assert.ok(
        await until(async () => (await readyz()).status === 200, 10_000),
        '/readyz recovers by itself',
      );
      assert.equal((await api('PUT', '/secrets/kept', { value: 'after' })).status, 200);
      assert.equal(((await api('GET', '/secrets/kept')).json() as { value: string }).value, 'after');
      assert.equal(await versionsOf('kept'), 2);
      assert.match(server.log, /"fault":"storageFull"/);
      assert.equal(await server.exitCode('SIGTERM'), 0);
    } finally {
      disk.close();
    }
  });

  it('a first start on a full disk fails without leaving an unseal key or a half store; with space it starts', async (t) => {
    const disk = await SmallDisk.mount(2 * 1024);
    try {
      await disk.fill();
      // Room for the TLS files and an empty database, not for a whole initialisation.
      await disk.sh(`truncate -s -96K "${disk.dir}/ballast"`);
      const failed = await disk.startDevServer();
      assert.equal(await failed.ready(), undefined, 'the start failed');
      assert.notEqual(await failed.exitCode(), 0);
      assert.match(failed.log, /the server failed to start: .*storage is full/);
      assert.equal(
        existsSync(disk.outside('unseal.key')),
        false,
        'no unseal key for a store that does not exist',
      );
      // With room again (SQLite needs some to open a WAL database), look at what the start left.
      await disk.free();
      // SQLite resolves /proc/PID/root to the outside root, so the store is copied out to be read.
      const copy = path.join(scratchDir('left-behind'), 'coffer.db');
      await disk.sh(`cp "${disk.dir}"/coffer.db* "${path.dirname(copy)}"/ 2>/dev/null; true`);
      if (existsSync(copy)) {
        const db = new Database(copy, { fileMustExist: true });
        const keys = db
          .prepare<[], { key: string }>('SELECT key FROM entries')
          .all()
          .map((row) => row.key);
        db.close();
        t.diagnostic(`rows left by the failed start: ${keys.length}`);
        // Either nothing, or an unfinished initialisation the next start clears (its marker kept).
        assert.ok(keys.length === 0 || keys.includes('core/init-pending'), `left behind: ${keys.join(', ')}`);
        assert.ok(!keys.includes('core/seal-config'));
      }

      const server = await disk.startDevServer();
      assert.ok(await server.ready(), server.log);
      assert.equal(await server.exitCode('SIGTERM'), 0);
    } finally {
      disk.close();
    }
  });
});
