import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ClusterEvent, ClusteredStorage } from './cluster.js';

/** One installation's durable data, and a way to start members over it. */
export interface ClusterFixture {
  /** A new member (what a new process or node would open). The suite closes every one itself. */
  member(): Promise<ClusteredStorage>;
  /** Removes the data; every member is closed by then. */
  cleanup(): Promise<void>;
}

/**
 * What every backend's cluster must do for members of one installation, written against the
 * Cluster interface alone, so several SQLite processes and several PostgreSQL nodes are held to
 * the same rules: a write on one member is read on another within the stated bound, other
 * members hear of every committed key and message (and a member never hears itself), a claim
 * is decided once across members, and exactly one member leads, handing over when it leaves.
 */
export function exerciseCluster(backendName: string, open: () => Promise<ClusterFixture>): void {
  describe(`cluster contract: ${backendName}`, () => {
    let fixture: ClusterFixture;
    let members: ClusteredStorage[];
    const member = async () => {
      const opened = await fixture.member();
      members.push(opened);
      return opened;
    };

    beforeEach(async () => {
      fixture = await open();
      members = [];
    });

    afterEach(async () => {
      for (const opened of members) await opened.close();
      await fixture.cleanup();
    });

    it('serves a write made on one member from another within the stated bound', async () => {
      const [a, b] = [await member(), await member()];
      await a.put('k/x', bytes('old'));
      await a.put('k/gone', bytes('here'));
      // B reads (and caches) the old state first.
      assert.equal((await b.get('k/x'))?.toString(), 'old');
      assert.equal((await b.get('k/gone'))?.toString(), 'here');
      assert.equal(await b.get('k/new'), undefined);
      assert.deepEqual(await b.list('k/list/'), []);

      await a.transaction(async (tx) => {
        await tx.put('k/x', bytes('new'));
        await tx.delete('k/gone');
        await tx.put('k/new', bytes('born'));
        await tx.put('k/list/item', bytes('listed'));
      });
      // The bound runs from the acknowledgement: that is when a client may expect the change.
      const committedAt = Date.now();
      const bound = b.cluster.staleBoundMs;
      const seenAfter = await until(bound + 2000, async () => (await b.get('k/x'))?.toString() === 'new');
      assert.ok(
        seenAfter - committedAt <= bound + SCHEDULING_SLACK_MS,
        `seen after ${seenAfter - committedAt} ms`,
      );
      assert.equal(await b.get('k/gone'), undefined);
      assert.equal((await b.get('k/new'))?.toString(), 'born');
      assert.deepEqual(await b.list('k/list/'), ['k/list/item']);
    });

    it('tells the other members which keys each commit wrote, in order, and never the writer', async () => {
      const [a, b] = [await member(), await member()];
      const heardByA: ClusterEvent[] = [];
      const heardByB: ClusterEvent[] = [];
      a.cluster.onEvent((event) => heardByA.push(event));
      b.cluster.onEvent((event) => heardByB.push(event));

      await a.put('e/1', bytes('1'));
      await a.delete('e/1');
      await a.transaction(async (tx) => {
        await tx.put('e/2', bytes('2'));
        await tx.put('e/3', bytes('3'));
      });
      await assert.rejects(
        a.transaction(async (tx) => {
          await tx.put('e/rolled-back', bytes('x'));
          throw new Error('refused');
        }),
      );
      await b.put('e/from-b', bytes('b'));

      const changed = (events: ClusterEvent[]) =>
        events.flatMap((event) => (event.type === 'changed' ? [[...event.keys].sort()] : []));
      await until(b.cluster.staleBoundMs + 2000, async () => changed(heardByB).length >= 3);
      assert.deepEqual(changed(heardByB), [['e/1'], ['e/1'], ['e/2', 'e/3']]);
      await until(a.cluster.staleBoundMs + 2000, async () => changed(heardByA).length >= 1);
      assert.deepEqual(changed(heardByA), [['e/from-b']]);
    });

    it('delivers a published message to the other members only', async () => {
      const [a, b, c] = [await member(), await member(), await member()];
      const heard = new Map<ClusteredStorage, string[]>([
        [a, []],
        [b, []],
        [c, []],
      ]);
      for (const [storage, list] of heard) {
        storage.cluster.onEvent((event) => {
          if (event.type === 'message') list.push(`${event.topic}:${event.body}`);
        });
      }
      a.cluster.publish('throttle', 'client:abc');
      await until(5000, async () => heard.get(b)!.length > 0 && heard.get(c)!.length > 0);
      assert.deepEqual(heard.get(b), ['throttle:client:abc']);
      assert.deepEqual(heard.get(c), ['throttle:client:abc']);
      assert.deepEqual(heard.get(a), []);
    });

    it('decides a claim once across members, until it expires, and remembers it across restarts', async () => {
      const [a, b] = [await member(), await member()];
      const now = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).cluster.claim('jti-1', now + 60_000, now)),
      );
      assert.equal(outcomes.filter(Boolean).length, 1, `claimed ${outcomes.filter(Boolean).length} times`);
      assert.equal(await a.cluster.claim('jti-2', now + 60_000, now), true);

      await a.close();
      const restarted = await member();
      assert.equal(await restarted.cluster.claim('jti-2', now + 60_000, now), false);
      // Once expired, the id may be recorded again (a new assertion that happens to reuse it).
      assert.equal(await restarted.cluster.claim('jti-2', now + 200_000, now + 120_000), true);
      assert.equal(await b.cluster.claim('jti-2', now + 200_000, now + 120_000), false);
    });

    it('lets exactly one member lead, and hands leadership over when the leader leaves', async () => {
      const all = [await member(), await member(), await member()];
      for (const storage of all) storage.cluster.leadership.request();
      await until(10_000, async () => all.some((storage) => storage.cluster.leadership.isLeader));
      const leaders = () => all.filter((storage) => storage.cluster.leadership.isLeader);
      assert.equal(leaders().length, 1);

      const leader = leaders()[0]!;
      await leader.close();
      const rest = all.filter((storage) => storage !== leader);
      await until(10_000, async () => rest.some((storage) => storage.cluster.leadership.isLeader));
      assert.equal(rest.filter((storage) => storage.cluster.leadership.isLeader).length, 1);

      // A member that resigns stops leading at once, and another takes over.
      const next = rest.find((storage) => storage.cluster.leadership.isLeader)!;
      next.cluster.leadership.resign();
      assert.equal(next.cluster.leadership.isLeader, false);
      const last = rest.find((storage) => storage !== next)!;
      await until(10_000, async () => last.cluster.leadership.isLeader);
    });

    it('lists the members that are running, with the leader and the URL each announced', async () => {
      const [a, b] = [await member(), await member()];
      a.cluster.announce('https://node-a:8443');
      b.cluster.announce('https://node-b:8443');
      a.cluster.leadership.request();
      await until(10_000, async () => a.cluster.leadership.isLeader);
      await until(10_000, async () => {
        const listed = await b.cluster.members();
        const byId = new Map(listed.map((entry) => [entry.memberId, entry]));
        return (
          byId.get(a.cluster.memberId)?.url === 'https://node-a:8443' &&
          byId.get(a.cluster.memberId)?.leader === true &&
          byId.get(b.cluster.memberId)?.url === 'https://node-b:8443'
        );
      });
      await a.close();
      await until(
        10_000,
        async () => !(await b.cluster.members()).some((m) => m.memberId === a.cluster.memberId),
      );
    });
  });
}

/** Event-loop and scheduling delays on a loaded 2-core CI machine, beyond the stated bound. */
const SCHEDULING_SLACK_MS = 1000;

function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** Polls `check` until it holds; returns when it first held (ms since epoch), or fails after `ms`. */
async function until(ms: number, check: () => Promise<boolean>): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) assert.fail(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
