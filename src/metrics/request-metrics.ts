import type { Registry } from 'prom-client';
import { type MetricValue, registerComputed } from './computed-metric.js';

/** Seconds: Prometheus's base unit (Azure's ServiceApiLatency is in milliseconds). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One (vault, operation, status): plain numbers, turned into Prometheus lines only when scraped. */
interface StatusSeries {
  count: number;
  latencySum: number;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: Float64Array;
}

interface OperationSeries {
  hits: number;
  byStatus: Map<number, StatusSeries>;
}

interface VaultSeries {
  operations: Map<string, OperationSeries>;
  requests: number;
  serverErrors: number;
}

type Labels = Record<string, string>;

/**
 * Azure Monitor's Key Vault request metrics (docs/metrics.md): ServiceApiHit, ServiceApiResult,
 * ServiceApiLatency by ActivityType, ActivityName and StatusCode(Class), and Availability, per
 * vault. A request costs three map lookups and a few additions: prom-client's own counters
 * build a label key string on every increment, these build nothing until scraped. Every label
 * value is bounded: vaults that exist, operation names the routes declare (unknown routes are
 * `UnknownOperation`), status codes the server sent.
 */
export class RequestMetrics {
  private readonly vaults = new Map<string, VaultSeries>();

  constructor(registry: Registry) {
    registerComputed(registry, {
      name: 'coffer_service_api_hit_total',
      help: 'Requests received (Azure ServiceApiHit), by vault, ActivityType and ActivityName.',
      type: 'counter',
      values: () => this.hitValues(),
    });
    registerComputed(registry, {
      name: 'coffer_service_api_result_total',
      help: 'Requests answered (Azure ServiceApiResult), by vault, ActivityType, ActivityName and StatusCode.',
      type: 'counter',
      values: () => this.statusValues((labels, series) => [{ labels, value: series.count }]),
    });
    registerComputed(registry, {
      name: 'coffer_service_api_latency_seconds',
      help: 'Time from request to answer (Azure ServiceApiLatency, in seconds), by vault, ActivityType, ActivityName and StatusCode.',
      type: 'histogram',
      values: () => this.statusValues(histogramValues),
    });
    registerComputed(registry, {
      name: 'coffer_availability_percent',
      help: 'Requests not failed by the server (no 5xx) since start, in percent (Azure Availability), by vault.',
      type: 'gauge',
      values: () =>
        [...this.vaults]
          .filter(([, series]) => series.requests > 0)
          .map(([vault, series]) => ({
            labels: { vault },
            value: (100 * (series.requests - series.serverErrors)) / series.requests,
          })),
    });
  }

  /** One answered request. `vault` is '' for requests outside a vault (identity, admin API). */
  observe(vault: string, operation: string, status: number, durationMs: number): void {
    let perVault = this.vaults.get(vault);
    if (!perVault) {
      perVault = { operations: new Map(), requests: 0, serverErrors: 0 };
      this.vaults.set(vault, perVault);
    }
    perVault.requests++;
    if (status >= 500) perVault.serverErrors++;
    let perOperation = perVault.operations.get(operation);
    if (!perOperation) {
      perOperation = { hits: 0, byStatus: new Map() };
      perVault.operations.set(operation, perOperation);
    }
    perOperation.hits++;
    let series = perOperation.byStatus.get(status);
    if (!series) {
      series = { count: 0, latencySum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1) };
      perOperation.byStatus.set(status, series);
    }
    const seconds = durationMs / 1000;
    series.count++;
    series.latencySum += seconds;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]!) bucket++;
    series.buckets[bucket]!++;
  }

  /** Forgets a vault's series (a purged vault), so deleted vaults do not accumulate labels. */
  forgetVault(vault: string): void {
    this.vaults.delete(vault);
  }

  private hitValues(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const [vault, perVault] of this.vaults)
      for (const [operation, perOperation] of perVault.operations)
        values.push({ labels: activityLabels(vault, operation), value: perOperation.hits });
    return values;
  }

  private statusValues(make: (labels: Labels, series: StatusSeries) => MetricValue[]): MetricValue[] {
    const values: MetricValue[] = [];
    for (const [vault, perVault] of this.vaults)
      for (const [operation, perOperation] of perVault.operations)
        for (const [status, series] of perOperation.byStatus)
          values.push(...make(statusLabels(vault, operation, status), series));
    return values;
  }
}

function activityLabels(vault: string, operation: string): Labels {
  return { vault, activity_type: activityType(operation), activity_name: operation };
}

function statusLabels(vault: string, operation: string, status: number): Labels {
  return {
    ...activityLabels(vault, operation),
    status_code: String(status),
    status_code_class: `${Math.floor(status / 100)}xx`,
  };
}

/** Prometheus's histogram lines: cumulative buckets by `le`, then the sum and the count. */
function histogramValues(labels: Labels, series: StatusSeries): MetricValue[] {
  const name = 'coffer_service_api_latency_seconds';
  const values: MetricValue[] = [];
  let cumulative = 0;
  for (let index = 0; index <= LATENCY_BUCKETS.length; index++) {
    cumulative += series.buckets[index]!;
    const le = index < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[index]) : '+Inf';
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  }
  values.push({ metricName: `${name}_sum`, labels, value: series.latencySum });
  values.push({ metricName: `${name}_count`, labels, value: series.count });
  return values;
}

/** Azure's ActivityType: the kind of object an operation acts on, from its operationName. */
export function activityType(operation: string): string {
  for (const [prefix, type] of ACTIVITY_TYPES) if (operation.startsWith(prefix)) return type;
  return 'other';
}

const ACTIVITY_TYPES: ReadonlyArray<[string, string]> = [
  ['Secret', 'secret'],
  ['Key', 'key'],
  ['Certificate', 'certificate'],
  ['Vault', 'vault'],
  ['Authentication', 'authentication'],
  ['RoleAssignment', 'rbac'],
  ['RoleDefinition', 'rbac'],
];
