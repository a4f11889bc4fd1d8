import type { FastifyBaseLogger } from 'fastify';
import { startAlerts } from '../audit/alerts/alerts.js';
import { type Alert, ALERT_EVENT_TYPE } from '../audit/alerts/types.js';
import type { AuditLogHandle } from '../audit/setup.js';
import type { AuditLog } from '../audit/types.js';
import type { CofferConfig } from '../config/types.js';
import type { Events } from '../events/events.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';

/**
 * Starts the alert rules over the audit stream (docs/metrics.md), when both are on. An alert
 * about a vault is also an event to that vault's subscribers (docs/events.md); one about the
 * installation (no vault) has no subscribers to reach: its warn line and count remain.
 */
export function wireAlerts(deps: {
  audit: AuditLogHandle | undefined;
  config: CofferConfig['alerts'];
  events: Pick<Events, 'publishEvent'>;
  auditLog: AuditLog;
  log: FastifyBaseLogger;
  metrics: ServerMetrics | undefined;
}): void {
  const { audit, config, events, auditLog, log, metrics } = deps;
  const raiseAlert = (alert: Alert): void => {
    if (alert.vault === undefined) return;
    const data = { rule: alert.rule, caller: alert.caller, vault: alert.vault, details: alert.details };
    events
      .publishEvent(alert.vault, ALERT_EVENT_TYPE, alert.rule, data)
      .catch((error: unknown) =>
        log.error({ err: { type: (error as Error).name } }, 'an alert could not be raised as an event'),
      );
  };
  if (audit && config.enabled)
    startAlerts({
      broker: audit.broker,
      config,
      log: auditLog,
      raise: raiseAlert,
      counted: (rule) => metrics?.alertRaised(rule),
    });
  else if (config.enabled)
    log.warn({}, 'alerts are off: they read the audit log, which is turned off (audit.enabled is false)');
}
