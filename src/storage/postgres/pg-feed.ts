import pg from 'pg';
import type { LeadershipState } from '../cluster-common.js';
import { LEADER_LOCK } from './pg-schema.js';

export const CHANGES_CHANNEL = 'coffer_changes';

export interface FeedDeps {
  memberId: string;
  startedAt: Date;
  url: () => string | null;
  leadership: LeadershipState;
  heartbeatMs: number;
  connectTimeoutMs: number;
  onNotification: (payload: string) => void;
  /** Listening (again): whatever was missed while not listening must be forgotten. */
  onListening: () => void;
  /** Not listening: called at once and then every heartbeat until listening again. */
  onDeaf: () => void;
  onBroken: () => void;
}

const MEMBER_EVERY_MS = 2000;
const PRUNE_EVERY_MS = 60_000;
/** A heartbeat late past this is a dead connection: reconnect. Before it, the node only stops trusting it. */
const DEAD_AFTER_MS = 10_000;

/**
 * The control connection of one node to the writable server: LISTEN for the other nodes'
 * commits, hold the leader's advisory lock, and keep this node's row in coffer_members. A
 * heartbeat on it every `heartbeatMs` with a deadline of twice that proves it alive. A late
 * heartbeat makes the node deaf: it stops leading and drops its caches at every tick, yet keeps
 * the connection, since a node whose event loop (or database) is merely slow loses no notice on
 * a connection that still works; only a heartbeat that never comes back, or an error, ends it
 * and reconnects. The server side keeps TCP keepalives short, so a node that vanishes without
 * closing its socket loses the lock (and another node takes over) well after it has itself
 * noticed and stopped leading.
 */
export class PgFeed {
  private client: pg.Client | undefined;
  private target: string | undefined;
  private connecting = false;
  private beating = false;
  private holdsLock = false;
  private lastMemberMs = 0;
  private lastPruneMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Listening, but a heartbeat is late: nothing it says can be trusted to be current. */
  private deaf = false;
  /** How often the feed went deaf or broke since start: each time, this node dropped its caches. */
  losses = 0;

  constructor(private readonly deps: FeedDeps) {}

  get isListening(): boolean {
    return this.client !== undefined && !this.deaf;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.heartbeatMs);
    this.timer.unref();
  }

  /** Listen on this server from now on (the writer changed), or on none. */
  follow(url: string | undefined): void {
    if (url === this.target) return;
    this.target = url;
    if (this.client) this.lose(this.client);
    void this.tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (this.holdsLock) await client.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]);
      await client.query('DELETE FROM coffer_members WHERE id = $1', [this.deps.memberId]);
    } catch {
      // The server is gone: it dropped the lock with the session, and the row ages out.
    }
    await client.end().catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    if (!this.client) {
      this.deps.onDeaf();
      if (this.target && !this.connecting) await this.connect(this.target);
      return;
    }
    if (this.deaf) this.deps.onDeaf();
    if (!this.beating) await this.heartbeat(this.client);
  }

  private async connect(url: string): Promise<void> {
    this.connecting = true;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: this.deps.connectTimeoutMs,
      keepAlive: true,
      application_name: 'coffer-control',
    });
    client.on('error', () => this.lose(client));
    client.on('end', () => this.lose(client));
    client.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL && message.payload) this.deps.onNotification(message.payload);
    });
    try {
      await client.connect();
      // The server drops a silent node's session (and its lock) after ~10 s without TCP replies.
      await client.query(
        'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 5; SET tcp_user_timeout = 10000',
      );
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.closed || url !== this.target) throw new Error('superseded');
      this.client = client;
      this.deps.onListening();
      await this.heartbeat(client);
    } catch {
      await client.end().catch(() => {});
      this.deps.onBroken();
    } finally {
      this.connecting = false;
    }
  }

  private async heartbeat(client: pg.Client): Promise<void> {
    this.beating = true;
    try {
      const beat = this.keepLock(client);
      if (!(await settlesWithin(beat, this.deps.heartbeatMs * 2))) {
        this.deafen();
        if (!(await settlesWithin(beat, DEAD_AFTER_MS))) throw new Error('the control connection is dead');
      }
      await beat;
      this.deaf = false;
      this.deps.leadership.set(this.holdsLock);
      const now = Date.now();
      if (now - this.lastMemberMs >= MEMBER_EVERY_MS) {
        this.lastMemberMs = now;
        await client.query(
          `INSERT INTO coffer_members (id, url, started_at, seen_at, leader) VALUES ($1, $2, $3, now(), $4)
           ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, seen_at = now(), leader = EXCLUDED.leader`,
          [this.deps.memberId, this.deps.url(), this.deps.startedAt, this.holdsLock],
        );
      }
      if (this.holdsLock && now - this.lastPruneMs >= PRUNE_EVERY_MS) {
        this.lastPruneMs = now;
        await client.query('DELETE FROM coffer_claims WHERE until_ms <= $1', [now]);
        await client.query("DELETE FROM coffer_members WHERE seen_at < now() - interval '1 day'");
      }
    } catch {
      this.lose(client);
    } finally {
      this.beating = false;
    }
  }

  /** Takes the advisory lock while leadership is wanted, gives it back when not; the caller says who leads. */
  private async keepLock(client: pg.Client): Promise<void> {
    const wanted = this.deps.leadership.isWanted;
    if (wanted && !this.holdsLock) {
      const result = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [
        LEADER_LOCK,
      ]);
      this.holdsLock = result.rows[0]?.got === true;
    } else if (!wanted && this.holdsLock) {
      await client.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]);
      this.holdsLock = false;
    } else {
      await client.query('SELECT 1');
    }
  }

  /** Stops trusting the feed (and stops leading) without dropping a connection that may work. */
  private deafen(): void {
    this.deaf = true;
    this.losses++;
    this.deps.leadership.set(false);
    this.deps.onDeaf();
  }

  private lose(client: pg.Client): void {
    if (client !== this.client) return;
    // A deaf episode that ends here was counted when it began.
    if (!this.deaf) this.losses++;
    this.client = undefined;
    this.holdsLock = false;
    this.deaf = false;
    this.deps.leadership.set(false);
    client.removeAllListeners('notification');
    client.on('error', () => {});
    void client.end().catch(() => {});
    this.deps.onDeaf();
    this.deps.onBroken();
  }
}

/**
 * Whether `work` settles (either way) within `ms`. When the time is up, replies that already
 * arrived are read first (the check runs after the event loop's I/O phase), so a node whose
 * event loop was busy does not take its own lag for a slow connection.
 */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => setImmediate(() => resolve(settled)), ms);
    const done = () => {
      settled = true;
      clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}
