import { randomUUID } from 'node:crypto';
import { type AuditEventBody, CLAIMS } from './record.js';

/** A change a service reports on its own (not a request), e.g. VaultPermissionModelChanged. */
export type ServiceEvent = { event: string } & Record<string, unknown>;

/**
 * A service event as a record of its own, beside the record of the request that caused it:
 * named by the event, on the vault it concerns, with the caller's object id when known and
 * what changed (strings only: events carry no object content).
 */
export function serviceEventRecord(event: ServiceEvent, nowMs: number): AuditEventBody {
  const { event: name, vault, by, ...details } = event;
  const change: Record<string, string> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      change[key] = String(value).slice(0, 200);
  }
  return {
    time: new Date(nowMs).toISOString(),
    resourceId: typeof vault === 'string' ? `/vaults/${vault}` : '/',
    operationName: name,
    operationVersion: '',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: '',
    resultDescription: '',
    durationMs: 0,
    callerIpAddress: '',
    correlationId: randomUUID(),
    identity: { claim: typeof by === 'string' ? { [CLAIMS.objectId]: by } : {} },
    properties: { requestUri: '', httpStatusCode: 0, clientInfo: '', change },
  };
}
