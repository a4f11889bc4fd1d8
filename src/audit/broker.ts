import { linkRecord } from './chain.js';
import { type CheckpointSigner, checkpointEntry } from './checkpoint-key.js';
import type { AuditEventBody, CheckpointReason, SpooledRecord } from './record.js';
import { SinkRunner, describe } from './sink-runner.js';
import type { RecordMaker, Spool } from './spool.js';
import { SpoolWriteError } from './spool.js';
import type { AuditLog, AuditStats, Sink } from './types.js';

export interface BrokerOptions {
  spool: Spool;
  sinks: Sink[];
  /** Where each sink's cursor is kept. */
  cursorDir: string;
  log: AuditLog;
  /** Refuse requests while the spool cannot be written (as HashiCorp Vault does), or serve them. */
  failClosed: boolean;
  checkpointIntervalMs: number;
  now?: () => number;
}

const PROBE_MS = 1000;
const PRUNE_MS = 5000;
const REMINDER_MS = 60_000;

/**
 * The audit broker: every record goes through it to the spool (durable before the caller goes
 * on), then to in-process subscribers and to the sinks, each at its own pace. It signs
 * checkpoints into the chain at a fixed interval, when the store is unsealed or sealed, and at
 * shutdown; it tracks whether the spool can be written and how far behind each sink is.
 */
export class AuditBroker {
  private readonly runners: SinkRunner[];
  private readonly listeners = new Set<(record: SpooledRecord) => void>();
  private signer: CheckpointSigner | undefined;
  private lastCheckpointed = 0;
  private timers: NodeJS.Timeout[] = [];
  private outage: { since: number; code: string; probe?: NodeJS.Timeout; reminded: number } | undefined;
  private refused = 0;
  private lost = 0;
  private refusedInOutage = 0;
  private lostInOutage = 0;
  private readonly now: () => number;
  private closed = false;
  private checkpointing = 0;

  constructor(private readonly options: BrokerOptions) {
    this.now = options.now ?? Date.now;
    this.runners = options.sinks.map(
      (sink) => new SinkRunner(options.spool, sink, options.cursorDir, options.log),
    );
    options.spool.onDurable((entries) => {
      for (const runner of this.runners) runner.wake();
      for (const { record } of entries) this.publish(record);
    });
    // Records acknowledged before a sync that then failed: counted and logged as lost.
    options.spool.onSyncFailure = (error, acknowledgedLost) => {
      this.spoolFailed(error);
      this.lost += acknowledgedLost;
      this.lostInOutage += acknowledgedLost;
    };
  }

  /** Starts the sinks (each from where it stopped) and the checkpoint and pruning timers. */
  async start(): Promise<void> {
    const oldest = await this.oldestKept();
    await Promise.all(this.runners.map((runner) => runner.start(oldest)));
    this.lastCheckpointed = this.options.spool.head.sequence;
    const every = (ms: number, work: () => Promise<void>) => {
      const timer = setInterval(() => void work().catch(() => undefined), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.checkpointIntervalMs, () => this.checkpoint('interval'));
    every(PRUNE_MS, () => this.prune());
  }

  /**
   * Writes one record and resolves once the spool has it: synced to the disk when `durable` (a
   * change) or when the spool syncs every record, else in the page cache and synced within the
   * spool's interval; `alone` when no other request is in flight (Spool.append). Rejects
   * (SpoolWriteError) when the spool cannot be written: with failClosed the caller must then
   * refuse its request.
   */
  async record(body: AuditEventBody, durable = true, alone = false): Promise<void> {
    if (this.closed) throw new Error('the audit log is closed');
    try {
      await this.options.spool.append((head) => linkRecord(body, head), durable, alone);
    } catch (error) {
      if (error instanceof SpoolWriteError) this.spoolFailed(error);
      throw error;
    }
  }

  /** Whether requests may be served: false while failClosed and the spool cannot be written. */
  get accepting(): boolean {
    return !(this.options.failClosed && this.outage);
  }

  get failClosed(): boolean {
    return this.options.failClosed;
  }

  /** Counts a request refused because its record could not be written. */
  refusedRequest(): void {
    this.refused++;
    this.refusedInOutage++;
  }

  /** Counts a request served without its record (fail open). */
  lostRecord(): void {
    this.lost++;
    this.lostInOutage++;
  }

  /** Hears every record once it is durable, in order. Returns the unsubscribe function. */
  subscribe(listener: (record: SpooledRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The key that signs checkpoints: set while unsealed. Setting it signs what came before. */
  setSigner(signer: CheckpointSigner | undefined, reason: CheckpointReason = 'start'): Promise<void> {
    if (this.closed) return Promise.resolve();
    const previous = this.signer;
    this.signer = signer;
    if (signer) return this.checkpoint(reason);
    // Sealing: the last checkpoint is made with the key being put away.
    return previous ? this.checkpointWith(previous, reason) : Promise.resolve();
  }

  /** Signs the chain so far, unless nothing was written since the last checkpoint. */
  async checkpoint(reason: CheckpointReason): Promise<void> {
    if (this.signer) await this.checkpointWith(this.signer, reason);
  }

  stats(): AuditStats {
    const sinks = this.runners.map((runner) => runner.status());
    const head = this.options.spool.head.sequence;
    return {
      headSequence: head,
      spoolDepth: Math.max(0, ...sinks.map((sink) => sink.lag)),
      spoolSegments: this.options.spool.segmentCount,
      sinks,
      outage: this.outage && { since: new Date(this.outage.since).toISOString(), code: this.outage.code },
      refusedRequests: this.refused,
      lostRecords: this.lost,
    };
  }

  /** At shutdown: a last checkpoint, then give the sinks until the deadline to catch up. */
  async close(drainMs = 2000): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.outage?.probe);
    await this.checkpoint('shutdown').catch(() => undefined);
    // Sealing after this (the server's own shutdown seals) must not write another checkpoint.
    this.closed = true;
    this.signer = undefined;
    await this.options.spool.idle();
    await Promise.all(this.runners.map((runner) => runner.drain(drainMs)));
    await Promise.all(this.runners.map((runner) => runner.close()));
    await this.options.spool.close();
  }

  private async checkpointWith(signer: CheckpointSigner, reason: CheckpointReason): Promise<void> {
    const spool = this.options.spool;
    // An interval checkpoint only signs something new, and never races another checkpoint.
    if (reason === 'interval' && (this.checkpointing || spool.head.sequence === this.lastCheckpointed))
      return;
    this.checkpointing++;
    const time = new Date(this.now()).toISOString();
    const make: RecordMaker = (head) => checkpointEntry(signer, head, reason, time);
    try {
      const entry = await spool.append(make);
      this.lastCheckpointed = entry.record.sequence;
    } catch (error) {
      if (error instanceof SpoolWriteError) this.spoolFailed(error);
      throw error;
    } finally {
      this.checkpointing--;
    }
  }

  private publish(record: SpooledRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (error) {
        this.options.log.error({ error: describe(error) }, 'audit subscriber failed');
      }
    }
  }

  private spoolFailed(error: SpoolWriteError): void {
    const now = this.now();
    if (this.outage) {
      if (now - this.outage.reminded >= REMINDER_MS) {
        this.outage.reminded = now;
        this.options.log.error(this.outageDetails(), 'audit spool still cannot be written');
      }
      return;
    }
    this.outage = { since: now, code: error.code, reminded: now };
    this.refusedInOutage = 0;
    this.lostInOutage = 0;
    this.options.log.error(
      this.outageDetails(),
      this.options.failClosed
        ? 'audit spool cannot be written: requests are refused with 503 until it can (audit.failClosed)'
        : 'audit spool cannot be written: requests are served WITHOUT audit records until it can (audit.failClosed is false)',
    );
    this.scheduleProbe();
  }

  private outageDetails(): object {
    return {
      code: this.outage?.code,
      reason: this.outage?.code === 'ENOSPC' ? 'the disk under the audit spool is full' : undefined,
      since: this.outage && new Date(this.outage.since).toISOString(),
      failClosed: this.options.failClosed,
      refused: this.refusedInOutage,
      lost: this.lostInOutage,
    };
  }

  /** While the spool fails, try every second to write the record of the outage itself. */
  private scheduleProbe(): void {
    const outage = this.outage;
    if (!outage) return;
    outage.probe = setTimeout(() => void this.probe(), PROBE_MS);
    outage.probe.unref();
  }

  private async probe(): Promise<void> {
    const outage = this.outage;
    if (!outage) return;
    const until = this.now();
    const body = outageRecord(outage.since, until, outage.code, this.refusedInOutage, this.lostInOutage);
    try {
      await this.options.spool.append((head) => linkRecord(body, head));
    } catch {
      this.scheduleProbe();
      return;
    }
    this.options.log.info(
      { ...this.outageDetails(), seconds: Math.round((until - outage.since) / 1000) },
      'audit spool can be written again',
    );
    this.outage = undefined;
  }

  private async prune(): Promise<void> {
    const through = Math.min(...this.runners.map((runner) => runner.persistedThrough));
    await this.options.spool.prune(Number.isFinite(through) ? through : this.options.spool.head.sequence);
  }

  private async oldestKept(): Promise<number> {
    const { entries } = await this.options.spool.read(0, 1);
    return entries[0]?.record.sequence ?? this.options.spool.head.sequence + 1;
  }
}

/** The record that says, once the spool works again, how long it did not and what that cost. */
function outageRecord(
  since: number,
  until: number,
  code: string,
  refused: number,
  lost: number,
): AuditEventBody {
  return {
    time: new Date(until).toISOString(),
    resourceId: '/',
    operationName: 'AuditLogUnavailable',
    operationVersion: '',
    category: 'AuditEvent',
    resultType: 'Failure',
    resultSignature: code,
    resultDescription: `The audit spool could not be written from ${new Date(since).toISOString()} to ${new Date(until).toISOString()} (${code}): ${refused} request(s) refused, ${lost} request(s) served without a record.`,
    durationMs: until - since,
    callerIpAddress: '',
    correlationId: '',
    identity: { claim: {} },
    properties: {
      requestUri: '',
      httpStatusCode: 0,
      clientInfo: '',
      change: {
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        code,
        refused: String(refused),
        lost: String(lost),
      },
    },
  };
}
