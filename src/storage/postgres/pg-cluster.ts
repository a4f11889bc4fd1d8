import { randomUUID } from 'node:crypto';
import type { Cluster, ClusterEvent, ClusterStatus, MemberStatus } from '../cluster.js';
import { ClusterEvents, LeadershipState } from '../cluster-common.js';
import type { PgConnections } from './pg-connections.js';
import { storageError } from './pg-errors.js';
import { CHANGES_CHANNEL, PgFeed } from './pg-feed.js';

/** pg_notify payloads must stay under 8000 bytes; a commit naming more keys says "reset" instead. */
const MAX_PAYLOAD = 7900;

/** What one notification carries: the sender, and the keys it committed, a message, or a reset. */
interface Notice {
  m: string;
  k?: string[];
  t?: string;
  b?: string;
  r?: 1;
}

export interface PgClusterDeps {
  connections: PgConnections;
  heartbeatMs: number;
  connectTimeoutMs: number;
  /** Drops keys from the row cache ('all': everything) and makes reads in flight not cache. */
  forget: (keys: readonly string[] | 'all') => void;
  onError: (error: unknown) => void;
}

/**
 * The cluster of nodes over one PostgreSQL database. Every commit sends pg_notify with the keys
 * it wrote, inside the transaction, so the notice is delivered exactly when the commit is, in
 * commit order, to every listening node. A node that is not listening (connection lost, primary
 * down) cannot know what changed, so it drops everything it cached, at once and at every
 * heartbeat until it listens again: nothing cached outlives the bound. Claims are rows inserted
 * with ON CONFLICT, leadership an advisory lock held by the control connection (pg-feed.ts).
 */
export class PgCluster implements Cluster {
  readonly memberId = randomUUID();
  /** A notification arrives in milliseconds; a broken feed is noticed within two heartbeats. */
  readonly staleBoundMs: number;
  readonly leadership: LeadershipState;
  private readonly events: ClusterEvents;
  private readonly feed: PgFeed;
  private readonly startedAt = new Date();
  private url: string | null = null;

  constructor(private readonly deps: PgClusterDeps) {
    this.staleBoundMs = 3 * deps.heartbeatMs;
    this.events = new ClusterEvents(deps.onError);
    this.leadership = new LeadershipState({ resigned: () => {} });
    this.feed = new PgFeed({
      memberId: this.memberId,
      startedAt: this.startedAt,
      url: () => this.url,
      leadership: this.leadership,
      heartbeatMs: deps.heartbeatMs,
      connectTimeoutMs: deps.connectTimeoutMs,
      onNotification: (payload) => this.receive(payload),
      onListening: () => this.reset(),
      onDeaf: () => this.reset(),
      onBroken: () => deps.connections.reportFailure(),
    });
    deps.connections.onWriterChange((writer) => this.feed.follow(writer?.url));
  }

  get isListening(): boolean {
    return this.feed.isListening;
  }

  start(): void {
    this.feed.start();
  }

  /** The notice a commit that wrote `keys` sends, inside its transaction. */
  noticeOf(keys: ReadonlySet<string>): string {
    const notice = JSON.stringify({ m: this.memberId, k: [...keys] } satisfies Notice);
    return notice.length <= MAX_PAYLOAD
      ? notice
      : JSON.stringify({ m: this.memberId, r: 1 } satisfies Notice);
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  publish(topic: string, body: string): void {
    let notice = JSON.stringify({ m: this.memberId, t: topic, b: body } satisfies Notice);
    if (notice.length > MAX_PAYLOAD) notice = JSON.stringify({ m: this.memberId, t: topic, b: '' });
    try {
      const { pool } = this.deps.connections.writable();
      pool.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, notice]).catch(() => {});
    } catch {
      // Read-only or unreachable: best effort means this member keeps the count to itself.
    }
  }

  async claim(id: string, untilMs: number, nowMs: number): Promise<boolean> {
    const writer = this.deps.connections.writable();
    try {
      const result = await writer.pool.query({
        name: 'coffer-claim',
        text: `INSERT INTO coffer_claims (id, until_ms) VALUES ($1, $2)
               ON CONFLICT (id) DO UPDATE SET until_ms = EXCLUDED.until_ms WHERE coffer_claims.until_ms <= $3
               RETURNING id`,
        values: [id, untilMs, nowMs],
      });
      return result.rowCount === 1;
    } catch (error) {
      throw storageError(error, writer.where, 'write');
    }
  }

  async liveClaims(nowMs: number): Promise<Array<{ id: string; untilMs: number }>> {
    const result = await this.deps.connections.read((pool) =>
      pool.query<{ id: string; until_ms: string }>(
        'SELECT id, until_ms FROM coffer_claims WHERE until_ms > $1 ORDER BY id',
        [nowMs],
      ),
    );
    return result.rows.map((row) => ({ id: row.id, untilMs: Number(row.until_ms) }));
  }

  announce(url: string): void {
    this.url = url;
  }

  async members(): Promise<MemberStatus[]> {
    const result = await this.deps.connections.read((pool) =>
      pool.query<{ id: string; url: string | null; started_at: Date; seen_at: Date; leader: boolean }>(
        `SELECT id, url, started_at, seen_at, leader FROM coffer_members
         WHERE seen_at > now() - interval '10 seconds' ORDER BY started_at, id`,
      ),
    );
    return result.rows.map((row) => ({
      memberId: row.id,
      url: row.url,
      startedAt: row.started_at.toISOString(),
      seenAt: row.seen_at.toISOString(),
      leader: row.leader,
    }));
  }

  status(): ClusterStatus {
    const mode = this.deps.connections.mode;
    return {
      memberId: this.memberId,
      backend: 'postgres',
      mode: mode === 'starting' ? 'unavailable' : mode,
      feedLive: this.feed.isListening,
      feedLosses: this.feed.losses,
      leader: this.leadership.isLeader,
      staleBoundMs: this.staleBoundMs,
    };
  }

  async close(): Promise<void> {
    this.leadership.resign();
    await this.feed.close();
  }

  private receive(payload: string): void {
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return this.reset();
    }
    if (notice.m === this.memberId) return;
    if (notice.r) return this.reset();
    if (Array.isArray(notice.k)) {
      this.deps.forget(notice.k);
      this.events.emit({ type: 'changed', keys: notice.k });
    } else if (typeof notice.t === 'string') {
      this.events.emit({ type: 'message', topic: notice.t, body: String(notice.b ?? '') });
    }
  }

  private reset(): void {
    this.deps.forget('all');
    this.events.emit({ type: 'reset' });
  }
}
