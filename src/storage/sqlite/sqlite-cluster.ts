import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Cluster, ClusterEvent, ClusterStatus, MemberStatus } from '../cluster.js';
import { ClusterEvents, LeadershipState } from '../cluster-common.js';
import type { DataFileMode } from './data-file-lock.js';

export interface SqliteClusterDeps {
  file: string;
  mode: DataFileMode;
  reader: Database.Database;
  writer: Database.Database;
  /** Runs `step` (synchronous statements on `writer`) inside the group committer's next commit. */
  write<T>(step: () => T): Promise<T>;
  /** Drops keys from the row cache ('all': everything). */
  forget(keys: readonly string[] | 'all'): void;
  /** How often members poll the change table; default 100 ms. */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

const HEARTBEAT_MS = 1000;
/** Members not seen for this long are not listed; the change table keeps this much history. */
const MEMBER_TTL_MS = 10_000;
const CHANGE_HISTORY_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 60_000;

/**
 * The cluster of processes over one SQLite file. A lone server (`exclusive`) has nobody to tell:
 * it records no changes and always leads. Members (`member`) record the keys of every commit in
 * the change table inside that commit, so the table is in commit order (SQLite has one writer at
 * a time), and poll it; a read first checks `data_version`, which moves whenever another
 * connection commits, and catches up on the spot, so the row cache is never stale. Leadership is
 * an exclusive lock on `FILE.leader`, which the operating system drops when its holder dies.
 */
export class SqliteCluster implements Cluster {
  readonly memberId = randomUUID();
  readonly staleBoundMs: number;
  readonly leadership: LeadershipState;
  private readonly events: ClusterEvents;
  private readonly statements;
  private readonly startedMs = Date.now();
  private url: string | null = null;
  private lastSeq = 0;
  private dataVersion = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastHeartbeatMs = 0;
  private lastPruneMs = 0;
  private leaderLock: Database.Database | undefined;
  private closed = false;
  private resets = 0;

  constructor(private readonly deps: SqliteClusterDeps) {
    const pollMs = deps.pollMs ?? 100;
    // A poll every pollMs, plus the time its events take to reach the caches above.
    this.staleBoundMs = deps.mode === 'member' ? 2 * pollMs + 50 : 0;
    this.events = new ClusterEvents(deps.onError);
    this.statements = prepare(deps.reader, deps.writer);
    this.leadership = new LeadershipState({
      requested: () => (this.shared ? this.tryLead() : this.leadership.set(true)),
      resigned: () => this.releaseLead(),
    });
    if (this.shared) {
      this.lastSeq = this.statements.lastSeq.get() ?? 0;
      this.dataVersion = this.statements.dataVersion.get() as number;
      this.timer = setInterval(() => this.tick(), pollMs);
      this.timer.unref();
    }
  }

  private get shared(): boolean {
    return this.deps.mode === 'member';
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  publish(topic: string, body: string): void {
    if (!this.shared || this.closed) return;
    this.deps
      .write(() => this.statements.insertChange.run(this.memberId, Date.now(), null, topic, body))
      .catch((error: unknown) => this.deps.onError?.(error));
  }

  async claim(id: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.deps.write(() => this.statements.claim.get({ id, until: untilMs, now: nowMs }) !== undefined);
  }

  async liveClaims(nowMs: number): Promise<Array<{ id: string; untilMs: number }>> {
    return this.statements.liveClaims.all(nowMs).map((row) => ({ id: row.id, untilMs: row.until_ms }));
  }

  announce(url: string): void {
    this.url = url;
  }

  async members(): Promise<MemberStatus[]> {
    if (!this.shared) return [this.self()];
    const rows = this.statements.members.all(Date.now() - MEMBER_TTL_MS);
    return rows.map((row) => ({
      memberId: row.id,
      url: row.url,
      startedAt: new Date(row.started_ms).toISOString(),
      seenAt: new Date(row.seen_ms).toISOString(),
      leader: row.leader === 1,
    }));
  }

  status(): ClusterStatus {
    return {
      memberId: this.memberId,
      backend: 'sqlite',
      mode: 'read-write',
      feedLive: true,
      feedLosses: this.resets,
      leader: this.leadership.isLeader,
      staleBoundMs: this.staleBoundMs,
    };
  }

  /** Inside a commit that wrote `keys`, before its COMMIT: the other members' record of it. */
  recordCommit(keys: ReadonlySet<string>): void {
    if (!this.shared || keys.size === 0) return;
    this.statements.insertChange.run(this.memberId, Date.now(), JSON.stringify([...keys]), null, null);
  }

  /** Before serving a read: catch up if any other connection committed since the last look. */
  beforeRead(): void {
    if (!this.shared) return;
    const version = this.statements.dataVersion.get() as number;
    if (version === this.dataVersion) return;
    this.dataVersion = version;
    this.catchUp();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.releaseLead();
    if (this.shared) await this.deps.write(() => this.statements.deleteMember.run(this.memberId));
  }

  private self(): MemberStatus {
    const now = new Date().toISOString();
    return {
      memberId: this.memberId,
      url: this.url,
      startedAt: new Date(this.startedMs).toISOString(),
      seenAt: now,
      leader: this.leadership.isLeader,
    };
  }

  private tick(): void {
    try {
      this.beforeRead();
      const now = Date.now();
      if (now - this.lastHeartbeatMs >= HEARTBEAT_MS) this.heartbeat(now);
    } catch (error) {
      this.deps.onError?.(error);
    }
  }

  /** Reads the change table past the last row seen, in commit order. */
  private catchUp(): void {
    for (;;) {
      const rows = this.statements.since.all(this.lastSeq);
      if (rows.length === 0) return;
      // Rows are numbered without gaps; a gap means pruning outran this member: trust nothing cached.
      if (rows[0]!.seq !== this.lastSeq + 1) this.reset();
      for (const row of rows) {
        this.lastSeq = row.seq;
        if (row.member !== this.memberId) this.deliver(row);
      }
    }
  }

  private deliver(row: ChangeRow): void {
    if (row.keys !== null) {
      const keys = JSON.parse(row.keys) as string[];
      this.deps.forget(keys);
      this.events.emit({ type: 'changed', keys });
    } else if (row.topic !== null) {
      this.events.emit({ type: 'message', topic: row.topic, body: row.body ?? '' });
    }
  }

  private reset(): void {
    this.resets++;
    this.deps.forget('all');
    this.events.emit({ type: 'reset' });
  }

  private heartbeat(now: number): void {
    this.lastHeartbeatMs = now;
    if (this.leadership.isWanted && !this.leadership.isLeader) this.tryLead();
    const prune = now - this.lastPruneMs >= PRUNE_EVERY_MS;
    if (prune) this.lastPruneMs = now;
    const { statements } = this;
    this.deps
      .write(() => {
        statements.upsertMember.run(
          this.memberId,
          this.url,
          this.startedMs,
          now,
          this.leadership.isLeader ? 1 : 0,
        );
        if (!prune) return;
        statements.pruneChanges.run(now - CHANGE_HISTORY_MS);
        statements.pruneClaims.run(now);
        statements.pruneMembers.run(now - CHANGE_HISTORY_MS);
      })
      .catch((error: unknown) => this.deps.onError?.(error));
  }

  private tryLead(): void {
    if (this.leaderLock || this.closed) return;
    const lock = new Database(`${this.deps.file}.leader`, { timeout: 0 });
    try {
      lock.pragma('locking_mode = EXCLUSIVE');
      lock.exec('BEGIN EXCLUSIVE');
      this.leaderLock = lock;
      this.leadership.set(true);
    } catch {
      // Another member leads; try again at the next heartbeat.
      lock.close();
    }
  }

  private releaseLead(): void {
    if (!this.shared) return;
    this.leaderLock?.close();
    this.leaderLock = undefined;
  }
}

interface ChangeRow {
  seq: number;
  member: string;
  keys: string | null;
  topic: string | null;
  body: string | null;
}

interface MemberRow {
  id: string;
  url: string | null;
  started_ms: number;
  seen_ms: number;
  leader: number;
}

function prepare(reader: Database.Database, writer: Database.Database) {
  return {
    lastSeq: reader.prepare<[], number>('SELECT max(seq) FROM changes').pluck(),
    dataVersion: reader.prepare('PRAGMA data_version').pluck(),
    since: reader.prepare<[number], ChangeRow>(
      'SELECT seq, member, keys, topic, body FROM changes WHERE seq > ? ORDER BY seq LIMIT 500',
    ),
    members: reader.prepare<[number], MemberRow>(
      'SELECT id, url, started_ms, seen_ms, leader FROM members WHERE seen_ms > ? ORDER BY started_ms, id',
    ),
    liveClaims: reader.prepare<[number], { id: string; until_ms: number }>(
      'SELECT id, until_ms FROM claims WHERE until_ms > ? ORDER BY id',
    ),
    insertChange: writer.prepare<[string, number, string | null, string | null, string | null]>(
      'INSERT INTO changes (member, at_ms, keys, topic, body) VALUES (?, ?, ?, ?, ?)',
    ),
    // A row comes back only when this call inserted the claim or replaced an expired one.
    claim: writer.prepare<[{ id: string; until: number; now: number }], { id: string }>(
      'INSERT INTO claims (id, until_ms) VALUES (@id, @until) ON CONFLICT (id) DO UPDATE SET until_ms = excluded.until_ms WHERE claims.until_ms <= @now RETURNING id',
    ),
    upsertMember: writer.prepare<[string, string | null, number, number, number]>(
      'INSERT INTO members (id, url, started_ms, seen_ms, leader) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, seen_ms = excluded.seen_ms, leader = excluded.leader',
    ),
    deleteMember: writer.prepare<[string]>('DELETE FROM members WHERE id = ?'),
    pruneChanges: writer.prepare<[number]>('DELETE FROM changes WHERE at_ms < ?'),
    pruneClaims: writer.prepare<[number]>('DELETE FROM claims WHERE until_ms <= ?'),
    pruneMembers: writer.prepare<[number]>('DELETE FROM members WHERE seen_ms < ?'),
  };
}
