import type { Storage } from './types.js';

/**
 * How the members of one installation (nodes over one PostgreSQL database, or processes over one
 * SQLite file) keep what each caches in agreement, share what must be decided once, and choose
 * who runs background work. Every backend provides one; services above the barrier only ever see
 * the events and claims, never how they travel (LISTEN/NOTIFY, or a change table polled).
 */
export interface Cluster {
  /** This member's id: random per process start. */
  readonly memberId: string;
  /**
   * How long after a commit on another member this one may still serve what it cached before
   * it, while the feed is healthy; when the feed breaks, everything cached is dropped within
   * the same bound (a `reset` event).
   */
  readonly staleBoundMs: number;
  /** Events from other members, delivered in commit order; returns the unsubscribe function. */
  onEvent(listener: (event: ClusterEvent) => void): () => void;
  /** Best effort, to every other member (throttle counters): lost when the store is unreachable. */
  publish(topic: string, body: string): void;
  /**
   * Records `id` until `untilMs`, atomically across members: true when this call recorded it,
   * false when a live record (`untilMs > nowMs`) already exists. Durable: a restart remembers it.
   */
  claim(id: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** Claims still live at `nowMs`, to carry them over when an installation moves (storage migrate). */
  liveClaims(nowMs: number): Promise<Array<{ id: string; untilMs: number }>>;
  readonly leadership: Leadership;
  /** Tells the others how to reach this member (shown in `coffer operator nodes`). */
  announce(url: string): void;
  /** Members seen recently, this one included. */
  members(): Promise<MemberStatus[]>;
  status(): ClusterStatus;
}

export type ClusterEvent =
  /** Storage keys another member committed: drop whatever was derived from them. */
  | { type: 'changed'; keys: readonly string[] }
  /** The feed lost track (reconnected, fell behind, failed over): drop everything cached. */
  | { type: 'reset' }
  | { type: 'message'; topic: string; body: string };

/**
 * At most one member at a time leads (runs the sweeps). A member asks once it can do the work
 * (unsealed) and resigns when it no longer can; when the leader dies another takes over within
 * a few seconds.
 */
export interface Leadership {
  readonly isLeader: boolean;
  request(): void;
  resign(): void;
  onChange(listener: (isLeader: boolean) => void): () => void;
}

export interface MemberStatus {
  memberId: string;
  url: string | null;
  startedAt: string;
  seenAt: string;
  leader: boolean;
}

export interface ClusterStatus {
  memberId: string;
  backend: 'sqlite' | 'postgres';
  /** `read-only`: the primary database is unreachable and reads come from the replica. */
  mode: 'read-write' | 'read-only' | 'unavailable';
  /** Whether changes from other members are arriving (always true for a lone SQLite process). */
  feedLive: boolean;
  /** How often the feed broke (or fell behind) since start, each time dropping every cache. */
  feedLosses: number;
  leader: boolean;
  staleBoundMs: number;
}

export interface ClusteredStorage extends Storage {
  readonly cluster: Cluster;
}
