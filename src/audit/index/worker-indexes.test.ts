import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { type ChainHead, EMPTY_CHAIN, linkRecord } from '../chain.js';
import { eventBody } from '../test-log.js';
import { IndexDb } from './index-db.js';
import { AllWorkersIndex } from './worker-indexes.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'audit-workers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Request records of one chain, for secrets `{prefix}-1..n`, one second apart from `second`. */
function chain(prefix: string, count: number, second: number): string[] {
  let head: ChainHead = EMPTY_CHAIN;
  return Array.from({ length: count }, (_, i) => {
    const name = `${prefix}-${i + 1}`;
    const entry = linkRecord(
      eventBody('SecretGet', {
        time: new Date(Date.UTC(2026, 10, 20, 8, 0, second + i)).toISOString(),
        properties: {
          id: `https://dev.vault.localhost/secrets/${name}`,
          requestUri: `https://dev.vault.localhost/secrets/${name}`,
          httpStatusCode: 200,
          clientInfo: '',
        },
      }),
      head,
    );
    head = entry.record;
    return entry.line;
  });
}

/**
 * Another worker: a separate process that writes its own index, as `coffer server --workers N`
 * does, and inserts what it is sent (one JSON line per batch; `close` closes the database).
 */
class SiblingProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: AsyncIterator<string>;

  constructor(file: string) {
    const script = `
      import { createInterface } from 'node:readline';
      const { IndexDb } = await import(${JSON.stringify(new URL('./index-db.js', import.meta.url).href)});
      const db = new IndexDb(${JSON.stringify(file)});
      console.log('open');
      for await (const line of createInterface({ input: process.stdin })) {
        if (line === 'close') { db.close(); console.log('closed'); process.exit(0); }
        const { lines, through } = JSON.parse(line);
        db.insert(lines, through);
        console.log('inserted');
      }`;
    this.child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    this.answers = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async next(): Promise<string> {
    const answer = await this.answers.next();
    assert.ok(!answer.done, 'the sibling process ended');
    return answer.value;
  }

  async insert(lines: string[], through: number): Promise<void> {
    this.child.stdin.write(`${JSON.stringify({ lines, through })}\n`);
    assert.equal(await this.next(), 'inserted');
  }

  async close(): Promise<void> {
    this.child.stdin.write('close\n');
    assert.equal(await this.next(), 'closed');
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

const digest = (file: string) =>
  existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';

describe('querying every worker index of a server', () => {
  const files = [0, 1].map((slot) => path.join(scratch, `worker-${slot}`, 'index.db'));
  for (const file of files) mkdirSync(path.dirname(file), { recursive: true });
  const own = new IndexDb(files[0]!);
  const ownLines = chain('own', 3, 0);
  own.insert(ownLines, 3);
  const all = new AllWorkersIndex(own, { slot: 0, files });
  const names = (start: Array<number | undefined> = [undefined, undefined]) =>
    all
      .query({ order: 'asc', limit: 100 }, start)
      .records.map(({ worker, line }) => `${worker}:${/secrets\/([^"]+)"/.exec(line)![1]}`);
  after(() => {
    all.close();
    own.close();
  });

  it('answers from its own index while a sibling has none yet, then reads the sibling once it appears', async () => {
    assert.deepEqual(names(), ['0:own-1', '0:own-2', '0:own-3']);
    const sibling = new SiblingProcess(files[1]!);
    assert.equal(await sibling.next(), 'open');
    const theirs = chain('theirs', 4, 1);
    await sibling.insert(theirs.slice(0, 2), 2);
    // Merged by time: own-1 at :00, theirs-1 and own-2 at :01 (worker 0 first), ...
    assert.deepEqual(names(), ['0:own-1', '0:own-2', '1:theirs-1', '0:own-3', '1:theirs-2']);

    // The sibling's database and WAL, written by the other process, are never written from here.
    const before = [digest(files[1]!), digest(`${files[1]}-wal`)];
    for (let i = 0; i < 5; i++) names();
    assert.deepEqual([digest(files[1]!), digest(`${files[1]}-wal`)], before);

    // What the sibling commits later is seen, from where the last page left off.
    await sibling.insert(theirs.slice(2), 4);
    assert.deepEqual(names([3, 2]), ['1:theirs-3', '1:theirs-4']);

    // The sibling's process ends: its index is still read, and still never written from here.
    await sibling.close();
    const closed = [digest(files[1]!), digest(`${files[1]}-wal`)];
    assert.equal(names().length, 7);
    assert.deepEqual([digest(files[1]!), digest(`${files[1]}-wal`)], closed);
  });

  it('reopens a sibling index its worker replaced', () => {
    rmSync(files[1]!);
    rmSync(`${files[1]}-shm`, { force: true });
    assert.deepEqual(names(), ['0:own-1', '0:own-2', '0:own-3'], 'a removed sibling index is left out');
    const rebuilt = new IndexDb(files[1]!);
    rebuilt.insert(chain('rebuilt', 1, 10), 1);
    rebuilt.close();
    assert.deepEqual(names(), ['0:own-1', '0:own-2', '0:own-3', '1:rebuilt-1']);
  });

  it("says which sibling's index it could not read, rather than answer without its records", () => {
    rmSync(files[1]!);
    rmSync(`${files[1]}-wal`, { force: true });
    rmSync(`${files[1]}-shm`, { force: true });
    writeFileSync(files[1]!, 'not a database, and long enough that SQLite reads a header from it'.repeat(20));
    const page = all.query({ order: 'asc', limit: 100 }, [undefined, undefined]);
    assert.deepEqual(
      page.unreadable.map((entry) => entry.worker),
      [1],
    );
    assert.match(page.unreadable[0]!.reason, /not a database/);
    assert.equal(page.records.length, 3, 'its own records are still read');
    rmSync(files[1]!);
    const rebuilt = new IndexDb(files[1]!);
    rebuilt.insert(chain('again', 1, 20), 1);
    rebuilt.close();
    const healed = all.query({ order: 'asc', limit: 100 }, [undefined, undefined]);
    assert.deepEqual(healed.unreadable, []);
    assert.equal(healed.records.length, 4);
  });
});
