import { createHash } from 'node:crypto';
import { subscriptionPath } from './resource-ids.js';

/**
 * One installation is one subscription in one tenant. Its id is configured (`subscriptionId`) or
 * derived from the tenant id, so it is the same on every start and every node without being stored.
 */
export function derivedSubscriptionId(tenantId: string): string {
  const bytes = createHash('sha256').update(`coffer-subscription:${tenantId.toLowerCase()}`).digest();
  // RFC 9562 layout for a name-based UUID (version 5 bits, variant 10), as Azure's ids are GUIDs.
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const SUBSCRIPTION_NAME = 'Coffer';

/** A subscription as `GET /subscriptions` lists it (azure-mgmt-resource `Subscription`). */
export function subscriptionView(subscriptionId: string, tenantId: string) {
  return {
    id: subscriptionPath(subscriptionId),
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId,
    tenantId,
    displayName: SUBSCRIPTION_NAME,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'Coffer',
      spendingLimit: 'Off',
    },
  };
}

/** The one tenant, as `GET /tenants` lists it; its domain is the server's public host name. */
export function tenantView(tenantId: string, domain: string) {
  return {
    id: `/tenants/${tenantId}`,
    tenantId,
    tenantCategory: 'Home',
    displayName: SUBSCRIPTION_NAME,
    domains: [domain],
    defaultDomain: domain,
    tenantType: 'AAD',
  };
}
