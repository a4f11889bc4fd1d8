import { readFileSync } from 'node:fs';
import type { SecureStore } from '../barrier/secure-store.js';
import type { EventsConfig } from '../config/events.js';
import { BadParameter } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import type { ObjectChange, VaultRecordRef } from '../objects/types.js';
import { createDispatcher, type DispatcherLog } from './dispatcher.js';
import { type ExpiryStage, type ExpiringKind, expirySweep } from './expiry-sweep.js';
import {
  type ObjectFacts,
  type ObjectType,
  COLLECTION_OF,
  createPublisher,
  objectEventData,
} from './publisher.js';
import { createEventStore } from './store.js';
import { createSubscriptions } from './subscriptions.js';
import { EXTENSION_TYPE_PATTERN, KNOWN_EVENT_TYPES } from './types.js';
import { createWebhookClient } from './webhook.js';

const OBJECT_TYPES: ReadonlySet<string> = new Set(['Secret', 'Key', 'Certificate']);
const CHANGE_EVENT: Record<ObjectChange['action'], (type: ObjectType) => string> = {
  NewVersion: (type) => `Microsoft.KeyVault.${type}NewVersionCreated`,
  Deleted: (type) => `Coffer.KeyVault.${type}Deleted`,
  Recovered: (type) => `Coffer.KeyVault.${type}Recovered`,
  Purged: (type) => `Coffer.KeyVault.${type}Purged`,
};
const STAGE_EVENT: Record<ExpiryStage, (type: ObjectType) => string> = {
  nearExpiry: (type) => `Microsoft.KeyVault.${type}NearExpiry`,
  expired: (type) => `Microsoft.KeyVault.${type}Expired`,
};
/** The vault service's own events that Event Grid names VaultAccessPolicyChanged (a model switch included). */
const ACCESS_CHANGES = new Set(['VaultAccessPoliciesChanged', 'VaultPermissionModelChanged']);

class AlreadySent extends Error {}

export interface RoleAssignmentFacts {
  id: string;
  roleDefinitionId: string;
  principalId: string;
  scope: string;
}

/**
 * Events (docs/events.md): raising them after commits, the near-expiry/expiry sweep, event
 * subscriptions and their delivery. The one entry point other modules (alerts) call is
 * `publishEvent`.
 */
export function createEvents(deps: {
  /** The barrier view `sys/events/`. */
  store: SecureStore;
  config: EventsConfig;
  clock: Clock;
  vaultClock: Clock;
  vaultUrl: (vault: string) => string;
  topicOf: (vault: string) => Promise<string>;
  /** Live vault names, for an installation-wide role assignment (it reaches every vault). */
  vaultNames: () => Promise<string[]>;
  log: DispatcherLog & { error(details: Record<string, unknown>, message: string): void };
}) {
  const { config } = deps;
  const store = createEventStore(deps.store);
  const policy = { allowPrivateEndpoints: config.allowPrivateEndpoints, allowedHosts: config.allowedHosts };
  const webhook = createWebhookClient({
    policy,
    timeoutMs: config.deliveryTimeoutSeconds * 1000,
    extraCa: config.caFile ? readFileSync(config.caFile, 'utf8') : undefined,
  });
  const dispatcher = createDispatcher({
    store,
    webhook,
    clock: deps.clock,
    topicOf: deps.topicOf,
    log: deps.log,
    retry: {
      maxAttempts: config.maxAttempts,
      initialMs: config.retryInitialSeconds * 1000,
      maxMs: config.retryMaxSeconds * 1000,
      maxConcurrent: config.maxConcurrentDeliveries,
    },
  });
  const publisher = createPublisher({
    store,
    clock: deps.clock,
    vaultClock: deps.vaultClock,
    topicOf: deps.topicOf,
    delivered: (records) => dispatcher.delivered(records),
  });
  const subscriptions = createSubscriptions({
    store,
    clock: deps.clock,
    policy,
    validate: (record) => dispatcher.validateNow(record),
    forget: (vault, name) => dispatcher.forget(vault, name),
  });

  /** A committed change whose event cannot be stored is logged (the write itself stands). */
  async function raise(vault: string, type: string, subject: string, data: Record<string, unknown>) {
    try {
      await publisher.publish(vault, type, () => publisher.event(vault, type, subject, data));
    } catch (error) {
      deps.log.error(
        { event: 'event-not-stored', vault, eventType: type, err: { type: (error as Error).name } },
        'events: an event could not be written to the outbox',
      );
    }
  }

  const vaultData = (vault: string) => ({
    Id: `${deps.vaultUrl(vault)}/`,
    VaultName: vault,
    ObjectType: 'Vault',
    ObjectName: vault,
    Version: null,
    NBF: null,
    EXP: null,
  });

  /** Raises a sweep's (or a lifetime action's) event once per object version and stage. */
  async function raiseOnce(vault: VaultRecordRef, type: ObjectType, facts: ObjectFacts, stage: ExpiryStage) {
    const eventType = STAGE_EVENT[stage](type);
    const data = objectEventData(deps.vaultUrl(vault.name), vault.name, type, facts);
    const collection = COLLECTION_OF[type];
    try {
      const event = () => publisher.event(vault.name, eventType, facts.name, data);
      await publisher.publish(vault.name, eventType, event, async (tx, item) => {
        const marker = (await tx.readSent(vault.id, collection, facts.name, facts.version)) ?? {};
        if (marker[stage]) throw new AlreadySent();
        await tx.writeSent(vault.id, collection, facts.name, facts.version, {
          ...marker,
          [stage]: item.time,
        });
      });
    } catch (error) {
      if (error instanceof AlreadySent) return false;
      throw error;
    }
    deps.log.info(
      { eventType, vault: vault.name, subject: facts.name, version: facts.version },
      'event raised',
    );
    return true;
  }

  return {
    /**
     * Raises an event of `type` on a vault's subscriptions (for other modules, such as alerts:
     * `Coffer.Alert.*`). `data` must hold identifiers and facts only, never a secret.
     */
    async publishEvent(vault: string, type: string, subject: string, data: Record<string, unknown>) {
      if (!KNOWN_EVENT_TYPES.has(type) && !EXTENSION_TYPE_PATTERN.test(type))
        throw new BadParameter(`Unknown event type ${type}: use Coffer.<Area>.<Name>.`);
      await publisher.publish(vault, type, () => publisher.event(vault, type, subject, data));
    },

    /** The object lifecycles' listener. */
    async objectChanged(vault: VaultRecordRef, change: ObjectChange): Promise<void> {
      if (!OBJECT_TYPES.has(change.noun)) return;
      const type = change.noun as ObjectType;
      const facts = { name: change.name, version: change.version ?? '', nbf: change.nbf, exp: change.exp };
      const data = objectEventData(deps.vaultUrl(vault.name), vault.name, type, facts);
      if (!change.version)
        Object.assign(data, {
          Id: `${deps.vaultUrl(vault.name)}/${COLLECTION_OF[type]}/${change.name}`,
          Version: null,
        });
      await raise(vault.name, CHANGE_EVENT[change.action](type), change.name, data);
    },

    /** The vault service's events: access changes, soft delete, recovery. */
    async vaultChanged(event: { event: string; vault?: unknown }): Promise<void> {
      const vault = typeof event.vault === 'string' ? event.vault : undefined;
      if (!vault) return;
      if (ACCESS_CHANGES.has(event.event))
        await raise(vault, 'Microsoft.KeyVault.VaultAccessPolicyChanged', vault, vaultData(vault));
      else if (event.event === 'VaultDeleted' || event.event === 'VaultRecovered')
        await raise(vault, `Coffer.KeyVault.${event.event}`, vault, vaultData(vault));
    },

    /** A role assignment made or removed: raised on its vault, or on every vault for `/`. */
    async roleAssignmentChanged(action: 'Created' | 'Deleted', assignment: RoleAssignmentFacts) {
      const match = /^\/vaults\/([^/]+)/.exec(assignment.scope);
      const vaults = match ? [match[1]!] : assignment.scope === '/' ? await deps.vaultNames() : [];
      for (const vault of vaults)
        await raise(vault, `Coffer.KeyVault.RoleAssignment${action}`, assignment.id, {
          Id: assignment.id,
          VaultName: vault,
          ObjectType: 'RoleAssignment',
          ObjectName: assignment.id,
          RoleDefinitionId: assignment.roleDefinitionId,
          PrincipalId: assignment.principalId,
          Scope: assignment.scope,
        });
    },

    /** A lifetime action's notice (a key's Notify, a certificate's EmailContacts): NearExpiry, once per version. */
    nearExpiryNotice: (vault: VaultRecordRef, type: ObjectType, facts: ObjectFacts) =>
      raiseOnce(vault, type, facts, 'nearExpiry'),

    expirySweep: <V extends VaultRecordRef>(kinds: ExpiringKind<V>[]) =>
      expirySweep<V>({ kinds, clock: deps.vaultClock, nearExpiryDays: config.nearExpiryDays, raiseOnce }),

    subscriptions,
    deadLetters: (vault?: string) => store.listDeadLetters(vault),
    start: () => dispatcher.start(),
    stop: () => dispatcher.stop(),
    outboxDepth: () => dispatcher.depth(),

    /** A purged vault's subscriptions, outbox rows, dead letters and markers go with it. */
    async forgetVault(vault: VaultRecordRef): Promise<void> {
      for (const subscription of await store.listSubscriptions(vault.name))
        await subscriptions.remove(vault.name, subscription.name);
      for (const prefix of [`dead-letters/${vault.name}/`, `sent/${vault.id}/`]) {
        for (;;) {
          const keys = await store.transaction((tx) => tx.list(prefix));
          if (keys.length === 0) break;
          await store.transaction(async (tx) => {
            for (const key of keys) await tx.remove(prefix + key);
          });
        }
      }
    },
  };
}

export type Events = ReturnType<typeof createEvents>;
