import type { AlertsConfig } from '../../config/metrics.js';
import { type AuditRecord, CLAIMS } from '../record.js';
import { BoundedMap } from './bounded-map.js';
import type { Alert } from './types.js';

/** A rule reads each request record (and service event) once, in order; it may answer an alert. */
export type AlertRuleCheck = (record: AuditRecord, nowMs: number) => Alert | undefined;

/** Callers (and principals) each rule remembers at most; the least recently seen go first. */
export const MAX_TRACKED_CALLERS = 10_000;
/** Addresses remembered per principal. */
export const MAX_ADDRESSES_PER_PRINCIPAL = 64;

const PURGES_AND_VAULT_DELETIONS = new Set([
  'SecretPurge',
  'KeyPurge',
  'CertificatePurge',
  'VaultDelete',
  'VaultPurge',
]);
/** Service events (vaults/service.ts) that change who may reach a vault or its data. */
const ACCESS_CHANGE_EVENTS = new Set([
  'VaultPermissionModelChanged',
  'VaultAccessPoliciesChanged',
  'VaultNetworkRulesChanged',
]);
/** Requests that change access without a service event of their own. */
const ACCESS_CHANGE_REQUESTS = new Set(['VaultNetworkRuleUpdate']);

/** The rules the configuration turns on, in the order they are checked. */
export function alertRules(config: AlertsConfig): AlertRuleCheck[] {
  const rules: AlertRuleCheck[] = [];
  if (config.refusedThreshold > 0)
    rules.push(refusedBurst(config.refusedThreshold, config.refusedWindowSeconds));
  if (config.distinctSecretsThreshold > 0)
    rules.push(distinctSecretReads(config.distinctSecretsThreshold, config.distinctSecretsWindowSeconds));
  if (config.newAddress) rules.push(newAddress());
  if (config.destructive) rules.push(destructive);
  if (config.accessChanges) rules.push(accessChange);
  return rules;
}

/**
 * `threshold` refused requests (403, or 401 with a token that failed) by one caller within the
 * window. The SDKs' first request to a vault carries no token by design (the challenge): it is
 * not a refusal worth counting. One alert per caller per window, however long the burst.
 */
function refusedBurst(threshold: number, windowSeconds: number): AlertRuleCheck {
  const windowMs = windowSeconds * 1000;
  const recent = new BoundedMap<string, number[]>(MAX_TRACKED_CALLERS);
  const quiet = quietPeriods(windowMs);
  return (record, now) => {
    if (!isRefusal(record)) return undefined;
    const caller = callerOf(record);
    if (!caller) return undefined;
    const times = (recent.get(caller) ?? []).filter((time) => now - time < windowMs);
    times.push(now);
    if (times.length < threshold) {
      recent.set(caller, times);
      return undefined;
    }
    recent.delete(caller);
    if (!quiet.begin(caller, now)) return undefined;
    return {
      rule: 'refusedBurst',
      caller,
      vault: vaultOf(record),
      details: {
        refused: times.length,
        windowSeconds,
        lastStatus: record.properties.httpStatusCode,
        lastOperation: record.operationName,
      },
    };
  };
}

/**
 * One caller reading `threshold` distinct secrets (by id, HMACed when names are) within the
 * window: what a stolen credential sweeping a vault looks like. Names never reach the alert.
 */
function distinctSecretReads(threshold: number, windowSeconds: number): AlertRuleCheck {
  const windowMs = windowSeconds * 1000;
  const reads = new BoundedMap<string, Map<string, number>>(MAX_TRACKED_CALLERS);
  const quiet = quietPeriods(windowMs);
  return (record, now) => {
    const secret = record.properties.id;
    if (record.operationName !== 'SecretGet' || record.properties.httpStatusCode !== 200 || !secret)
      return undefined;
    const caller = callerOf(record);
    if (!caller) return undefined;
    let seen = reads.get(caller);
    if (!seen) {
      seen = new Map();
      reads.set(caller, seen);
    }
    // Kept in order of last read, so the expired ones are at the front.
    seen.delete(secret);
    seen.set(secret, now);
    for (const [id, at] of seen) {
      if (now - at < windowMs) break;
      seen.delete(id);
    }
    if (seen.size < threshold) return undefined;
    const distinct = seen.size;
    reads.delete(caller);
    if (!quiet.begin(caller, now)) return undefined;
    return {
      rule: 'distinctSecretReads',
      caller,
      vault: vaultOf(record),
      details: { distinctSecrets: distinct, windowSeconds },
    };
  };
}

/**
 * A principal authenticated from an address it was not seen at before. What is "before" is
 * learned since the server started: a principal's first request after start teaches its
 * address silently (nothing to compare with yet), every later new address alerts once and is
 * then known. Bounded: MAX_ADDRESSES_PER_PRINCIPAL addresses for MAX_TRACKED_CALLERS principals.
 */
function newAddress(): AlertRuleCheck {
  const known = new BoundedMap<string, BoundedMap<string, true>>(MAX_TRACKED_CALLERS);
  return (record) => {
    const principal = record.identity.claim[CLAIMS.objectId];
    const address = record.callerIpAddress;
    if (!principal || !address || !provenIdentity(record)) return undefined;
    const addresses = known.get(principal);
    if (!addresses) {
      const first = new BoundedMap<string, true>(MAX_ADDRESSES_PER_PRINCIPAL);
      first.set(address, true);
      known.set(principal, first);
      return undefined;
    }
    if (addresses.get(address)) return undefined;
    addresses.set(address, true);
    return {
      rule: 'newAddress',
      caller: principal,
      vault: vaultOf(record),
      details: { address, operation: record.operationName, status: record.properties.httpStatusCode },
    };
  };
}

/** Every purge and vault deletion a caller with a valid token attempts, allowed or refused. */
const destructive: AlertRuleCheck = (record) => {
  if (!PURGES_AND_VAULT_DELETIONS.has(record.operationName) || !provenIdentity(record)) return undefined;
  return {
    rule: 'destructive',
    caller: callerOf(record) ?? 'unknown',
    vault: vaultOf(record),
    details: {
      operation: record.operationName,
      status: record.properties.httpStatusCode,
      result: record.resultType,
    },
  };
};

/** A vault's permission model, access policies or network rules changed. */
const accessChange: AlertRuleCheck = (record) => {
  const event = ACCESS_CHANGE_EVENTS.has(record.operationName);
  const request = ACCESS_CHANGE_REQUESTS.has(record.operationName) && record.resultType === 'Success';
  if (!event && !request) return undefined;
  const change = record.properties.change ?? {};
  const details: Record<string, string | number> = { operation: record.operationName };
  // Only fields from a fixed set with short values: never a policy's object ids in bulk.
  for (const field of ['from', 'to', 'defaultAction', 'ipRules', 'operation'] as const)
    if (change[field] !== undefined) details[field === 'operation' ? 'kind' : field] = change[field]!;
  return { rule: 'accessChange', caller: callerOf(record) ?? 'unknown', vault: vaultOf(record), details };
};

/** A 403, or a 401 for a token that was presented and failed (not the challenge's bare request). */
function isRefusal(record: AuditRecord): boolean {
  const status = record.properties.httpStatusCode;
  if (status === 403) return true;
  if (status !== 401) return false;
  const description = record.resultDescription;
  return !description.includes('AKV10000') && !description.includes("'Authorization' header is missing");
}

/** The record's identity is one a valid token (or a successful sign-in) proved, not one merely claimed. */
function provenIdentity(record: AuditRecord): boolean {
  const status = record.properties.httpStatusCode;
  if (status === 0 || status === 401) return false;
  return record.operationName !== 'Authentication' || record.resultType === 'Success';
}

function callerOf(record: AuditRecord): string | undefined {
  const claim = record.identity.claim;
  const id = claim[CLAIMS.objectId] ?? claim[CLAIMS.appId];
  if (id) return id;
  return record.callerIpAddress ? `address:${record.callerIpAddress}` : undefined;
}

function vaultOf(record: AuditRecord): string | undefined {
  return record.resourceId.startsWith('/vaults/') ? record.resourceId.slice('/vaults/'.length) : undefined;
}

/** After an alert, a caller stays quiet for one window: a long burst is one alert per window. */
function quietPeriods(windowMs: number) {
  const until = new BoundedMap<string, number>(MAX_TRACKED_CALLERS);
  return {
    begin(caller: string, now: number): boolean {
      if ((until.get(caller) ?? 0) > now) return false;
      until.set(caller, now + windowMs);
      return true;
    },
  };
}
