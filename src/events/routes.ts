import type { FastifyRequest } from 'fastify';
import type { AdminRoute } from '../http/admin-plane.js';
import { ManagementActions } from '../policy/actions.js';
import { validateVaultName } from '../vaults/service.js';
import type { DeadLetterRecord } from './types.js';
import { type SubscriptionInput, subscriptionView } from './subscriptions.js';
import type { Events } from './events.js';

type Params = { vault: string; name: string };

/** What the dead-letter list shows: the event and why it was given up, never the endpoint's answer body. */
function deadLetterView(record: DeadLetterRecord) {
  return {
    id: record.id,
    vault: record.vault,
    subscription: record.subscription,
    eventId: record.event.id,
    eventType: record.event.type,
    subject: record.event.subject,
    eventTime: record.event.time,
    attempts: record.attempts,
    deadLetteredAt: record.deadLetteredAt,
    reason: record.reason,
  };
}

/**
 * Event subscriptions and the dead-letter list (docs/events.md). Subscriptions are authorized
 * at the vault's scope with Event Grid's own actions (`Microsoft.EventGrid/eventSubscriptions/*`,
 * which Azure's built-in roles grant beside Key Vault's); the dead-letter list at the vault, or
 * at `/` for every vault.
 */
export function eventRoutes(
  events: Pick<Events, 'subscriptions' | 'deadLetters'>,
  vaults: { get(name: string): Promise<{ name: string }> },
): AdminRoute[] {
  const params = (request: FastifyRequest) => request.params as Params;
  const vaultScope = (request: FastifyRequest) => ({
    scope: `/vaults/${validateVaultName(params(request).vault)}`,
  });
  /** The vault's canonical (lower-case) name, once it is known to exist. */
  const vaultOf = async (request: FastifyRequest) => (await vaults.get(params(request).vault)).name;
  const base = '/coffer/vaults/:vault/eventSubscriptions';

  return [
    {
      method: 'PUT',
      url: `${base}/:name`,
      operation: 'EventSubscriptionCreate',
      action: ManagementActions.writeEventSubscriptions,
      target: vaultScope,
      schema: {
        body: {
          type: 'object',
          required: ['endpoint'],
          additionalProperties: false,
          properties: {
            endpoint: { type: 'string', minLength: 1, maxLength: 2048 },
            eventTypes: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 128 } },
            schema: { type: 'string', maxLength: 40 },
          },
        },
      },
      handler: async (request) => {
        const vault = await vaultOf(request);
        const created = await events.subscriptions.create(
          vault,
          params(request).name,
          request.body as SubscriptionInput,
        );
        return { status: 201, body: subscriptionView(created) };
      },
    },
    {
      method: 'GET',
      url: base,
      operation: 'EventSubscriptionList',
      action: ManagementActions.readEventSubscriptions,
      target: vaultScope,
      handler: async (request) => ({
        body: { value: (await events.subscriptions.list(await vaultOf(request))).map(subscriptionView) },
      }),
    },
    {
      method: 'GET',
      url: `${base}/:name`,
      operation: 'EventSubscriptionGet',
      action: ManagementActions.readEventSubscriptions,
      target: vaultScope,
      handler: async (request) => ({
        body: subscriptionView(await events.subscriptions.get(await vaultOf(request), params(request).name)),
      }),
    },
    {
      method: 'DELETE',
      url: `${base}/:name`,
      operation: 'EventSubscriptionDelete',
      action: ManagementActions.deleteEventSubscriptions,
      target: vaultScope,
      handler: async (request) => {
        await events.subscriptions.remove(await vaultOf(request), params(request).name);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      url: '/coffer/events/dead-letters',
      operation: 'EventDeadLetterList',
      action: ManagementActions.readEventSubscriptions,
      target: (request) => {
        const vault = (request.query as { vault?: string }).vault;
        return { scope: vault ? `/vaults/${validateVaultName(vault)}` : '/' };
      },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { vault: { type: 'string', maxLength: 64 } },
        },
      },
      handler: async (request) => {
        const vault = (request.query as { vault?: string }).vault;
        const records = await events.deadLetters(vault?.toLowerCase());
        return { body: { value: records.map(deadLetterView) } };
      },
    },
  ];
}
