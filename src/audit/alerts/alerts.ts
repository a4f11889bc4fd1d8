import type { AlertsConfig } from '../../config/metrics.js';
import type { AuditBroker } from '../broker.js';
import { type AuditRecord, isCheckpoint } from '../record.js';
import type { AuditLog } from '../types.js';
import { alertRules } from './rules.js';
import type { Alert, RaiseAlert } from './types.js';

export interface AlertDeps {
  broker: Pick<AuditBroker, 'subscribe'>;
  config: AlertsConfig;
  log: Pick<AuditLog, 'warn' | 'error'>;
  /** Where alerts go beyond the log line: the events mechanism once wired (types.ts). */
  raise: RaiseAlert;
  /** Counts an alert per rule (the coffer_alerts_total metric). */
  counted: (rule: string) => void;
  now?: () => number;
}

/**
 * The alert rules (docs/metrics.md, "Alerts") over the audit stream: each durable record goes
 * through every rule in order; an alert becomes a `warn` line, a count and a raise(). The
 * rules hold bounded state and do no I/O, so they keep up with the records. Returns the
 * function that stops listening.
 */
export function startAlerts(deps: AlertDeps): () => void {
  const rules = alertRules(deps.config);
  const now = deps.now ?? Date.now;
  if (!deps.config.enabled || rules.length === 0) return () => undefined;
  return deps.broker.subscribe((record) => {
    if (isCheckpoint(record)) return;
    const at = now();
    for (const rule of rules) {
      const alert = rule(record as AuditRecord, at);
      if (alert) announce(alert);
    }
  });

  function announce(alert: Alert): void {
    deps.counted(alert.rule);
    deps.log.warn(
      { alert: alert.rule, caller: alert.caller, vault: alert.vault, ...alert.details },
      `security alert: ${alert.rule}`,
    );
    try {
      deps.raise(alert);
    } catch (error) {
      deps.log.error({ alert: alert.rule, error: (error as Error).name }, 'raising an alert failed');
    }
  }
}
