import type { SecureStore } from '../barrier/secure-store.js';
import type { ArmRoutes } from '../http/arm-plane.js';
import type { Clock } from '../lib/clock.js';
import type { VaultService } from '../vaults/service.js';
import { deletedVaultRoutes } from './deleted-vault-routes.js';
import { groupRoutes } from './group-routes.js';
import { ARM_AUDIENCE, type CloudFacts } from './metadata.js';
import { createOperations } from './operations.js';
import { createResourceGroups } from './resource-groups.js';
import { derivedSubscriptionId, SUBSCRIPTION_NAME } from './subscription.js';
import { metadataRoutes, sessionRoutes, subscriptionRoutes } from './subscription-routes.js';
import { type ArmContext, vaultRoutes } from './vault-routes.js';

export interface ArmSettings {
  /** Configured, or derived from the tenant id (the same on every start and node). */
  subscriptionId: string | undefined;
  /** Where vaults made outside Resource Manager belong. */
  defaultResourceGroup: string;
  /** The installation's one location: the `region` setting. */
  location: string;
  baseDomain: string;
  publicHost: string;
  /** `https://{publicHost}[:port]`: Coffer's URL, and so Resource Manager's endpoint. */
  authorityHost: () => string;
  vaultUrl: (name: string) => string;
}

/**
 * The management plane in Azure Resource Manager's shape, wired: resource groups and operation
 * ids in the barrier under `sys/arm/`, vaults through the vault service. app.ts builds this once
 * and hands `routes()` to http/arm-plane.ts.
 */
export function createArm(deps: {
  store: SecureStore;
  clock: Clock;
  vaults: VaultService;
  tenantId: () => string;
  settings: ArmSettings;
}) {
  const { settings, clock, vaults } = deps;
  const groups = createResourceGroups({
    store: deps.store,
    clock,
    defaultGroup: settings.defaultResourceGroup,
    location: settings.location,
  });
  const operations = createOperations({ store: deps.store, clock });
  const subscriptionId = () => settings.subscriptionId ?? derivedSubscriptionId(deps.tenantId());
  const context = (apiVersion: string): ArmContext => ({
    apiVersion,
    tenantId: deps.tenantId(),
    subscriptionId: subscriptionId(),
    location: settings.location,
    defaultGroup: settings.defaultResourceGroup,
    vaultUrl: settings.vaultUrl,
  });
  const cloud = (): CloudFacts => ({
    name: SUBSCRIPTION_NAME,
    url: settings.authorityHost(),
    keyVaultDns: settings.baseDomain,
  });
  const subscriptionDeps = { vaults, operations, context, cloud, domain: settings.publicHost };

  return {
    subscriptionId,
    /** Token audiences of this plane: `{url}` (what ARM SDKs ask for a custom endpoint) and Azure's. */
    audiences: () => [settings.authorityHost(), ARM_AUDIENCE],
    routes: (): ArmRoutes => ({
      authorized: [
        ...vaultRoutes({ vaults, groups, operations, clock, context }),
        ...groupRoutes({ vaults, groups, context }),
        ...subscriptionRoutes(subscriptionDeps),
        ...deletedVaultRoutes({ vaults, operations, clock, context }),
      ],
      authenticated: sessionRoutes(subscriptionDeps),
      anonymous: metadataRoutes(cloud),
    }),
    /** On seal: nothing learned while unsealed stays in memory. */
    clearCaches: () => operations.clear(),
  };
}

export type Arm = ReturnType<typeof createArm>;
