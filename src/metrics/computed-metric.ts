import type { Metric, Registry } from 'prom-client';

/** One line of a metric: its labels and value, and for histograms the line's own name (`_bucket`...). */
export interface MetricValue {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

export interface ComputedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Called at each scrape: the current lines. Counters must only grow. */
  values: () => MetricValue[] | Promise<MetricValue[]>;
}

/**
 * A metric whose lines are computed when scraped, from state the server keeps anyway (the
 * audit broker's stats, fault counters, plain numbers on the request path). prom-client's
 * registry formats and escapes them like its own metrics.
 */
export function registerComputed(registry: Registry, metric: ComputedMetric): void {
  const { name, help, type } = metric;
  const computed = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    async get() {
      return { name, help, type, aggregator: 'sum' as const, values: await metric.values() };
    },
    reset() {
      // Computed from the server's state: nothing of its own to reset.
    },
  };
  registry.registerMetric(computed as unknown as Metric);
}
