import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AuditStats } from '../audit/types.js';
import { type MetricValue, registerComputed } from './computed-metric.js';
import { RequestMetrics } from './request-metrics.js';

/** What the server's metrics read at scrape time; each a cheap look at state kept anyway. */
export interface MetricSources {
  sealed: () => boolean;
  /** Bytes of the store on disk (database and write-ahead log). */
  /** Undefined where the store is not a local file (PostgreSQL). */
  storageBytes: () => number | undefined;
  /** Faults counted since start, by kind (storage/fault-counters.ts). */
  faults: () => Readonly<Record<string, number>>;
  /** Undefined when the audit log is turned off. */
  audit: () => AuditStats | undefined;
  /** Per vault: how much of its throttle window is used (0-100), and requests refused with 429. */
  throttle: () => {
    usagePercent: Readonly<Record<string, number>>;
    throttled: Readonly<Record<string, number>>;
  };
  /**
   * Per vault with certificates: the soonest expiry (Unix seconds) of a current certificate
   * version. Walks every vault's certificates: called at most once per CERTIFICATE_SCAN_MS.
   */
  certificateExpiries: () => Promise<ReadonlyMap<string, number>>;
  /** Events waiting in this node's delivery queue (events/dispatcher.ts). */
  eventOutboxDepth: () => number;
  nowMs: () => number;
}

const CERTIFICATE_SCAN_MS = 60_000;

/** The Prometheus registry of one server (docs/metrics.md). */
export interface ServerMetrics {
  registry: Registry;
  requests: RequestMetrics;
  /** Counts an alert raised by a rule (audit/alerts). */
  alertRaised: (rule: string) => void;
  /** The text a scrape gets, in Prometheus's exposition format. */
  render: () => Promise<string>;
  contentType: string;
}

export function createServerMetrics(sources: MetricSources): ServerMetrics {
  const registry = new Registry();
  // Process and Node.js metrics: CPU, memory, event loop lag, handles, GC.
  collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics(registry);
  const alerts = new Map<string, number>();
  const gauge = (name: string, help: string, value: () => number) =>
    registerComputed(registry, { name, help, type: 'gauge', values: () => [{ labels: {}, value: value() }] });

  gauge('coffer_sealed', '1 while the server is sealed (or not initialised), 0 while unsealed.', () =>
    sources.sealed() ? 1 : 0,
  );
  // PostgreSQL reports its own size (pg_database_size, its exporters): no series here then.
  registerComputed(registry, {
    name: 'coffer_storage_bytes',
    help: 'Size of the SQLite store on disk (database and write-ahead log), in bytes.',
    type: 'gauge',
    values: () => {
      const bytes = sources.storageBytes();
      return bytes === undefined ? [] : [{ labels: {}, value: bytes }];
    },
  });
  registerComputed(registry, {
    name: 'coffer_storage_faults_total',
    help: 'Faults found since start: integrityFailure (a record failed its check), storageFull, purgeFailure.',
    type: 'counter',
    values: () => Object.entries(sources.faults()).map(([kind, value]) => ({ labels: { kind }, value })),
  });
  registerAuditMetrics(registry, sources.audit);
  registerThrottleMetrics(registry, sources.throttle);
  gauge('coffer_event_outbox_depth', 'Events waiting in the outbox for delivery.', () =>
    sources.eventOutboxDepth(),
  );
  registerComputed(registry, {
    name: 'coffer_alerts_total',
    help: 'Alerts raised by the rules over the audit stream since start, by rule.',
    type: 'counter',
    values: () => [...alerts].map(([rule, value]) => ({ labels: { rule }, value })),
  });
  registerCertificateHorizon(registry, sources);

  return {
    registry,
    requests,
    alertRaised: (rule) => alerts.set(rule, (alerts.get(rule) ?? 0) + 1),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

function registerAuditMetrics(registry: Registry, stats: MetricSources['audit']): void {
  const fromStats = (pick: (stats: AuditStats) => MetricValue[]) => () => {
    const current = stats();
    return current ? pick(current) : [];
  };
  const single = (value: number): MetricValue[] => [{ labels: {}, value }];
  registerComputed(registry, {
    name: 'coffer_audit_spool_depth',
    help: 'Audit records in the spool the slowest sink has not received yet.',
    type: 'gauge',
    values: fromStats((audit) => single(audit.spoolDepth)),
  });
  registerComputed(registry, {
    name: 'coffer_audit_sink_lag',
    help: 'Audit records each sink has not received yet.',
    type: 'gauge',
    values: fromStats((audit) =>
      audit.sinks.map((sink) => ({ labels: { sink: sink.name }, value: sink.lag })),
    ),
  });
  registerComputed(registry, {
    name: 'coffer_audit_spool_writable',
    help: '1 while the audit spool can be written, 0 during an outage (full disk, I/O error).',
    type: 'gauge',
    values: fromStats((audit) => single(audit.outage ? 0 : 1)),
  });
  registerComputed(registry, {
    name: 'coffer_audit_refused_requests_total',
    help: 'Requests refused (audit.failClosed) because their audit record could not be written.',
    type: 'counter',
    values: fromStats((audit) => single(audit.refusedRequests)),
  });
  registerComputed(registry, {
    name: 'coffer_audit_lost_records_total',
    help: 'Requests served without an audit record (audit.failClosed false) because the spool could not be written.',
    type: 'counter',
    values: fromStats((audit) => single(audit.lostRecords)),
  });
}

function registerThrottleMetrics(registry: Registry, throttle: MetricSources['throttle']): void {
  const perVault = (values: Readonly<Record<string, number>>): MetricValue[] =>
    Object.entries(values).map(([vault, value]) => ({ labels: { vault }, value }));
  registerComputed(registry, {
    name: 'coffer_saturation_shoebox_percent',
    help: "How much of a throttled vault's request allowance the current window uses, in percent (Azure SaturationShoebox).",
    type: 'gauge',
    values: () => perVault(throttle().usagePercent),
  });
  registerComputed(registry, {
    name: 'coffer_throttled_requests_total',
    help: "Requests refused with 429 by a vault's throttle since start.",
    type: 'counter',
    values: () => perVault(throttle().throttled),
  });
}

/** Seconds until each vault's soonest certificate expiry, from a scan made at most once a minute. */
function registerCertificateHorizon(registry: Registry, sources: MetricSources): void {
  let scan: { atMs: number; expiries: Promise<ReadonlyMap<string, number>> } | undefined;
  registerComputed(registry, {
    name: 'coffer_certificate_expiry_horizon_seconds',
    help: 'Seconds until the soonest expiry of a current certificate version, per vault (negative: already expired).',
    type: 'gauge',
    values: async () => {
      if (sources.sealed()) return [];
      const now = sources.nowMs();
      if (!scan || now - scan.atMs >= CERTIFICATE_SCAN_MS) {
        const expiries = sources.certificateExpiries().catch(() => new Map<string, number>());
        scan = { atMs: now, expiries };
      }
      const expiries = await scan.expiries;
      return [...expiries].map(([vault, exp]) => ({
        labels: { vault },
        value: Math.round(exp - now / 1000),
      }));
    },
  });
}
