import { randomBytes, randomUUID } from 'node:crypto';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { type EndpointPolicy, EndpointRefused, checkEndpoint, parseEndpoint } from './endpoint-guard.js';
import type { EventStore } from './store.js';
import {
  EVENT_SCHEMAS,
  EXTENSION_TYPE_PATTERN,
  type EventSchema,
  KNOWN_EVENT_TYPES,
  type SubscriptionRecord,
} from './types.js';

export interface SubscriptionInput {
  endpoint: string;
  eventTypes?: string[];
  schema?: string;
}

/** Azure's event subscription names: 3 to 64 letters, digits and hyphens. */
const NAME = /^[A-Za-z0-9-]{3,64}$/;
const MAX_ENDPOINT_LENGTH = 2048;

/** What the API shows of a subscription: everything but the handshake's code. */
export function subscriptionView(record: SubscriptionRecord) {
  return {
    id: record.id,
    vault: record.vault,
    name: record.name,
    // As Event Grid's endpointBaseUrl: a query string may carry a key, so it is never shown.
    endpoint: baseUrl(record.endpoint),
    eventTypes: record.eventTypes,
    schema: record.schema,
    provisioningState: record.state,
    createdAt: record.createdAt,
    validatedAt: record.validatedAt,
    lastError: record.lastError,
  };
}

/**
 * Event subscriptions of a vault: made awaiting validation, active once the endpoint completed the
 * handshake (`validate`, which the create call awaits once; later tries are the dispatcher's).
 */
export function createSubscriptions(deps: {
  store: EventStore;
  clock: Clock;
  policy: EndpointPolicy;
  validate: (record: SubscriptionRecord) => Promise<void>;
  forget: (vault: string, name: string) => void;
}) {
  const notFound = (vault: string, name: string) =>
    new NotFound(
      'EventSubscriptionNotFound',
      `Vault ${vault} has no event subscription named ${name}; list them with \`coffer event subscription list --vault ${vault}\`.`,
    );

  async function get(vault: string, name: string): Promise<SubscriptionRecord> {
    const record = await deps.store.getSubscription(vault, validName(name));
    if (!record) throw notFound(vault, name);
    return record;
  }

  return {
    get,
    list: (vault: string) => deps.store.listSubscriptions(vault),

    async create(vault: string, name: string, input: SubscriptionInput): Promise<SubscriptionRecord> {
      validName(name);
      const endpoint = await validEndpoint(deps.policy, input.endpoint);
      const record: SubscriptionRecord = {
        id: randomUUID(),
        vault,
        name,
        endpoint,
        eventTypes: validTypes(input.eventTypes ?? []),
        schema: validSchema(input.schema),
        state: 'AwaitingValidation',
        createdAt: new Date(deps.clock.nowMs()).toISOString(),
        validationCode: randomBytes(16).toString('hex'),
        validationAttempts: 0,
      };
      await deps.store.transaction(async (tx) => {
        if (await tx.readSubscription(vault, name))
          throw new Conflict(
            `Vault ${vault} already has an event subscription named ${name}; delete it first or choose another name.`,
            'EventSubscriptionExists',
          );
        await tx.writeSubscription(record);
      });
      await deps.validate(record);
      return get(vault, name);
    },

    /** Removes the subscription and what its outbox still held for it. */
    async remove(vault: string, name: string): Promise<SubscriptionRecord> {
      const record = await get(vault, name);
      deps.forget(vault, name);
      const pending = (await deps.store.listDeliveries()).filter(
        (delivery) => delivery.subscriptionId === record.id,
      );
      await deps.store.transaction(async (tx) => {
        await tx.removeSubscription(vault, name);
        for (const delivery of pending) await tx.removeDelivery(delivery.id);
      });
      return record;
    },
  };
}

function baseUrl(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
}

function validName(name: string): string {
  if (!NAME.test(name))
    throw new BadParameter(
      'An event subscription name must be 3 to 64 characters: letters, digits and hyphens.',
    );
  return name;
}

async function validEndpoint(policy: EndpointPolicy, endpoint: string): Promise<string> {
  if (typeof endpoint !== 'string' || endpoint.length > MAX_ENDPOINT_LENGTH)
    throw new BadParameter(`endpoint must be an https:// URL of at most ${MAX_ENDPOINT_LENGTH} characters.`);
  try {
    const url = parseEndpoint(endpoint);
    await checkEndpoint(policy, url);
    return url.toString();
  } catch (error) {
    if (error instanceof EndpointRefused) throw new BadParameter(error.message, 'InvalidEndpoint');
    // A name that does not resolve is the caller's to fix, not a server error.
    const code = (error as NodeJS.ErrnoException).code;
    throw new BadParameter(
      `endpoint's host cannot be resolved (${code ?? 'lookup failed'}); check the URL.`,
      'InvalidEndpoint',
    );
  }
}

function validTypes(types: string[]): string[] {
  const unknown = types.filter((type) => !KNOWN_EVENT_TYPES.has(type) && !EXTENSION_TYPE_PATTERN.test(type));
  if (unknown.length > 0)
    throw new BadParameter(
      `Unknown event type(s) ${unknown.join(', ')}; known: ${[...KNOWN_EVENT_TYPES].join(', ')} (docs/events.md).`,
    );
  return [...new Set(types)];
}

function validSchema(schema: string | undefined): EventSchema {
  if (schema === undefined) return 'EventGridSchema';
  const found = EVENT_SCHEMAS.find((known) => known.toLowerCase() === schema.toLowerCase());
  if (!found) throw new BadParameter(`schema must be ${EVENT_SCHEMAS.join(' or ')}.`);
  return found;
}
