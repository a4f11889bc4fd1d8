import { randomUUID } from 'node:crypto';
import { type AuditEventBody, CLAIMS } from './record.js';

/** A change a service reports on its own (not a request), e.g. VaultPermissionModelChanged. */
export type ServiceEvent = { event: string } & Record<string, unknown>;

/**
 * A service event as a record of its own, beside the record of the request that caused it:
 * named by the event, on the vault it concerns, with the caller's object id (and app id) when
 * known and what changed, each value a bounded string (a structured change, such as the
 * permissions an access-policy change granted, as JSON). Events carry settings and permissions,
 * never object content.
 */
export function serviceEventRecord(event: ServiceEvent, nowMs: number): AuditEventBody {
  const { event: name, vault, by, ...details } = event;
  const change: Record<string, string> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      change[key] = String(value).slice(0, 200);
    else if (value !== undefined && value !== null) change[key] = JSON.stringify(value).slice(0, 4000);
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
    identity: { claim: callerClaims(by) },
    properties: { requestUri: '', httpStatusCode: 0, clientInfo: '', change },
  };
}

/** `by` is an object id, or `{objectId, clientId}` as the vault service reports its caller. */
function callerClaims(by: unknown): Record<string, string> {
  if (typeof by === 'string') return { [CLAIMS.objectId]: by };
  if (typeof by !== 'object' || by === null) return {};
  const { objectId, clientId } = by as { objectId?: unknown; clientId?: unknown };
  return {
    ...(typeof objectId === 'string' && { [CLAIMS.objectId]: objectId }),
    ...(typeof clientId === 'string' && { [CLAIMS.appId]: clientId }),
  };
}
