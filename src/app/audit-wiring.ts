import type { FastifyBaseLogger } from 'fastify';
import { AuditKeys } from '../audit/audit-keys.js';
import { type ServiceEvent, serviceEventRecord } from '../audit/service-event.js';
import { type AuditLogHandle, openAuditLog } from '../audit/setup.js';
import type { AuditLog } from '../audit/types.js';
import type { SecureStore } from '../barrier/secure-store.js';
import type { CofferConfig } from '../config/types.js';
import type { Clock } from '../lib/clock.js';

/**
 * Opens the audit log (when `audit.enabled`), with its signing keys in the barrier's system
 * records and a way for services to record what they did on their own (a permission model
 * switch, a purge by the retention sweep) beside their requests' records.
 */
export async function openAudit(
  config: CofferConfig['audit'],
  log: FastifyBaseLogger,
  systemStore: SecureStore,
  clock: Clock,
) {
  // The audit log writes its own operational lines through the server's logger.
  const auditLog: AuditLog = {
    info: (details, message) => log.info(details, message),
    warn: (details, message) => log.warn(details, message),
    error: (details, message) => log.error(details, message),
  };
  const audit: AuditLogHandle | undefined = config.enabled ? await openAuditLog(config, auditLog) : undefined;
  if (!audit) log.warn({}, 'the audit log is turned off (audit.enabled is false): requests leave no record');
  const recordServiceEvent = (event: ServiceEvent) => {
    audit?.broker.record(serviceEventRecord(event, clock.nowMs())).catch(() => {
      // The broker logs spool failures; the request's own record decides its answer.
    });
  };
  return { audit, auditLog, auditKeys: new AuditKeys(systemStore), recordServiceEvent };
}
