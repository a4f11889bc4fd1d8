import type { FastifyRequest } from 'fastify';
import { NotFound } from '../errors/index.js';
import type { ArmOpenRoute, ArmRoute } from '../http/arm-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { scopeOfVault } from '../policy/scopes.js';
import { validateVaultName, type VaultService } from '../vaults/service.js';
import { type CloudFacts, cloudMetadata } from './metadata.js';
import type { Operations } from './operations.js';
import { checkNameSchema } from './schemas.js';
import { subscriptionView, tenantView } from './subscription.js';
import type { ArmContext } from './vault-routes.js';
import { vaultView } from './vault-wire.js';

const SUBSCRIPTION_URL = '/subscriptions/:subscriptionId';
const PROVIDER_URL = `${SUBSCRIPTION_URL}/providers/Microsoft.KeyVault`;

export interface ArmSubscriptionDeps {
  vaults: Pick<VaultService, 'find' | 'list' | 'getDeleted'>;
  operations: Operations;
  context: (apiVersion: string) => ArmContext;
  cloud: () => CloudFacts;
  /** The tenant's domain in `GET /tenants`: the server's public host name. */
  domain: string;
}

const apiVersionOf = (request: FastifyRequest) => (request.query as { 'api-version': string })['api-version'];

/** The subscription-level routes that need a role: vaults by subscription, name availability. */
export function subscriptionRoutes(deps: ArmSubscriptionDeps): ArmRoute[] {
  return [
    {
      method: 'GET',
      url: `${PROVIDER_URL}/vaults`,
      operation: 'VaultList',
      action: ManagementActions.readVaults,
      target: () => ({ scope: '/' }),
      listing: true,
      handler: async (request) => {
        const context = deps.context(apiVersionOf(request));
        const shown = await request.visible(await deps.vaults.list(), scopeOfVault);
        return { body: { value: shown.map((record) => vaultView(record, context)) } };
      },
    },
    {
      method: 'POST',
      url: `${PROVIDER_URL}/checkNameAvailability`,
      operation: 'VaultCheckNameAvailability',
      action: ManagementActions.checkVaultNameAvailability,
      target: () => ({ scope: '/' }),
      schema: { body: checkNameSchema },
      handler: async (request) => ({
        body: await nameAvailability(deps, (request.body as { name: string }).name),
      }),
    },
  ];
}

/**
 * Vault names are global, as in Azure, and a deleted vault holds its name until it is purged
 * (Azure reports both as AlreadyExists, and says which in the message).
 */
async function nameAvailability(deps: ArmSubscriptionDeps, name: string) {
  let key: string;
  try {
    key = validateVaultName(name);
  } catch (error) {
    return { nameAvailable: false, reason: 'AccountNameInvalid', message: (error as Error).message };
  }
  if (await deps.vaults.find(key)) {
    return {
      nameAvailable: false,
      reason: 'AlreadyExists',
      message: `The vault name '${key}' is already in use.`,
    };
  }
  const deleted = await deps.vaults.getDeleted(key).catch((error: unknown) => {
    if (error instanceof NotFound) return undefined;
    throw error;
  });
  if (deleted) {
    return {
      nameAvailable: false,
      reason: 'AlreadyExists',
      message: `The vault name '${key}' is held by a deleted vault until it is purged: recover it (PUT with createMode 'recover') or purge it (POST .../deletedVaults/${key}/purge).`,
    };
  }
  return { nameAvailable: true };
}

/**
 * Routes any holder of a Resource Manager token may call: its subscription and tenant (what
 * `az login` lists; nothing in them is secret) and the status of an operation it was handed.
 */
export function sessionRoutes(deps: ArmSubscriptionDeps): ArmOpenRoute[] {
  const context = (request: FastifyRequest) => deps.context(apiVersionOf(request));
  const subscription = (request: FastifyRequest) => {
    const { subscriptionId, tenantId } = context(request);
    return subscriptionView(subscriptionId, tenantId);
  };
  return [
    {
      method: 'GET',
      url: '/subscriptions',
      operation: 'SubscriptionList',
      handler: async (request) => ({ value: [subscription(request)] }),
    },
    {
      method: 'GET',
      url: SUBSCRIPTION_URL,
      operation: 'SubscriptionGet',
      handler: async (request) => subscription(request),
    },
    {
      method: 'GET',
      url: '/tenants',
      operation: 'TenantList',
      handler: async (request) => ({ value: [tenantView(context(request).tenantId, deps.domain)] }),
    },
    {
      method: 'GET',
      url: `${PROVIDER_URL}/locations/:location/operationStatuses/:operationId`,
      operation: 'VaultOperationStatusGet',
      handler: async (request) => {
        const { operationId } = request.params as { operationId: string };
        const status = await deps.operations.status(operationId);
        if (!status)
          throw new NotFound(
            'OperationNotFound',
            `No operation '${operationId.slice(0, 80)}' was started here.`,
          );
        const { subscriptionId, location } = context(request);
        return {
          id: `/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/locations/${location}/operationStatuses/${operationId}`,
          name: operationId,
          status: 'Succeeded',
          startTime: new Date(status.startMs).toISOString(),
          endTime: new Date(status.endMs).toISOString(),
        };
      },
    },
  ];
}

/** `GET /metadata/endpoints`: public, answered while sealed too (it holds only this server's URLs). */
export function metadataRoutes(cloud: () => CloudFacts): ArmOpenRoute[] {
  return [
    {
      method: 'GET',
      url: '/metadata/endpoints',
      operation: 'CloudMetadataGet',
      handler: async (request) => cloudMetadata(request.query as Record<string, unknown>, cloud()),
    },
  ];
}
