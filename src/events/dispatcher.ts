import type { Clock } from '../lib/clock.js';
import type { EventStore } from './store.js';
import type { DeadLetterRecord, DeliveryRecord, SubscriptionRecord } from './types.js';
import { type WebhookClient, describeFailure } from './webhook.js';
import {
  VALIDATION_EVENT_TYPE,
  deliveryRequest,
  originAllowed,
  validationAnswered,
  validationRequest,
} from './wire.js';

export interface RetrySettings {
  maxAttempts: number;
  initialMs: number;
  maxMs: number;
  maxConcurrent: number;
}

export interface DispatcherLog {
  warn(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
}

/** A job the dispatcher owns: one outbox row, or one subscription's handshake. */
interface Job {
  kind: 'delivery' | 'validation';
  /** Delivery id, or `vault/name` for a handshake. */
  ref: string;
  /** `vault/name`: at most one request per subscription is in flight. */
  subscription: string;
  dueAt: number;
}

/** Exponential back-off, doubling from `initialMs` to `maxMs`, spread ±20% so retries do not march in step. */
export function retryDelayMs(settings: Pick<RetrySettings, 'initialMs' | 'maxMs'>, attempts: number) {
  const base = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Event Grid dead-letters these at once: the endpoint said the request itself is wrong. */
const NOT_RETRIED = new Set([400, 413]);

/**
 * Delivers the outbox at least once. The store is the truth (a restart reloads it); memory only
 * holds when each job is due. One request per subscription at a time and a global cap keep one
 * slow or failing endpoint from holding up the others; every request has a deadline (the
 * webhook client's), and a failed one is tried again after a growing delay, then dead-lettered.
 */
export function createDispatcher(deps: {
  store: EventStore;
  webhook: WebhookClient;
  clock: Clock;
  retry: RetrySettings;
  topicOf: (vault: string) => Promise<string>;
  log: DispatcherLog;
}) {
  const jobs = new Map<string, Job>();
  const busy = new Set<string>();
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let started = false;

  const keyOf = (job: Pick<Job, 'kind' | 'ref'>) => `${job.kind}:${job.ref}`;
  const subscriptionKey = (vault: string, name: string) => `${vault}/${name.toLowerCase()}`;

  function enqueue(job: Job): void {
    jobs.set(keyOf(job), job);
    if (started) pump();
  }

  /** Starts every due job there is room for, then sleeps until the next one is due. */
  function pump(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!started) return;
    const now = deps.clock.nowMs();
    let next = Infinity;
    for (const [key, job] of [...jobs].sort((a, b) => a[1].dueAt - b[1].dueAt)) {
      if (busy.has(job.subscription)) continue;
      if (job.dueAt > now) {
        next = Math.min(next, job.dueAt);
        continue;
      }
      if (running.size >= deps.retry.maxConcurrent) break;
      jobs.delete(key);
      busy.add(job.subscription);
      const work = run(job)
        .catch((error: unknown) => {
          // The store failed (sealed, disk): the job stays and is tried again later.
          deps.log.warn({ event: 'event-delivery-error', reason: describeFailure(error) }, 'events');
          jobs.set(key, { ...job, dueAt: deps.clock.nowMs() + deps.retry.initialMs });
        })
        .finally(() => {
          busy.delete(job.subscription);
          running.delete(work);
          pump();
        });
      running.add(work);
    }
    if (next !== Infinity) {
      timer = setTimeout(pump, Math.max(10, Math.min(next - now, 60_000)));
      timer.unref();
    }
  }

  async function run(job: Job): Promise<void> {
    if (job.kind === 'delivery') await deliver(job.ref);
    else await validate(job.ref);
  }

  async function deliver(id: string): Promise<void> {
    const delivery = await deps.store.getDelivery(id);
    if (!delivery) return;
    const subscription = await deps.store.getSubscription(delivery.vault, delivery.subscription);
    if (!subscription || subscription.id !== delivery.subscriptionId) {
      await deps.store.transaction((tx) => tx.removeDelivery(id));
      return;
    }
    const attempts = delivery.attempts + 1;
    const request = deliveryRequest(delivery.event, subscription.schema, subscription.name, attempts);
    let failure: string | undefined;
    let status = 0;
    try {
      const answer = await deps.webhook.send(subscription.endpoint, 'POST', request.headers, request.body);
      status = answer.status;
      if (status < 200 || status > 299) failure = `the endpoint answered ${status}`;
    } catch (error) {
      failure = describeFailure(error);
    }
    if (!failure) {
      await deps.store.transaction((tx) => tx.removeDelivery(id));
      return;
    }
    const failed = { ...delivery, attempts, lastError: failure };
    if (attempts >= deps.retry.maxAttempts || NOT_RETRIED.has(status)) {
      await deadLetter(
        failed,
        NOT_RETRIED.has(status) ? failure : `${attempts} tries failed; the last: ${failure}`,
      );
      return;
    }
    const retry = { ...failed, nextAttemptAt: deps.clock.nowMs() + retryDelayMs(deps.retry, attempts) };
    await deps.store.transaction((tx) => tx.writeDelivery(retry));
    enqueue({
      kind: 'delivery',
      ref: id,
      subscription: subscriptionKey(retry.vault, retry.subscription),
      dueAt: retry.nextAttemptAt,
    });
  }

  async function deadLetter(delivery: DeliveryRecord, reason: string): Promise<void> {
    const record: DeadLetterRecord = {
      ...delivery,
      deadLetteredAt: new Date(deps.clock.nowMs()).toISOString(),
      reason,
    };
    await deps.store.transaction(async (tx) => {
      await tx.removeDelivery(delivery.id);
      await tx.writeDeadLetter(record);
    });
    deps.log.warn(
      {
        event: 'event-dead-lettered',
        vault: delivery.vault,
        subscription: delivery.subscription,
        eventType: delivery.event.type,
        eventId: delivery.event.id,
        reason,
      },
      'events',
    );
  }

  /** One try of the handshake; true once the subscription is active. */
  async function validate(ref: string): Promise<boolean> {
    const [vault, name] = ref.split('/') as [string, string];
    const subscription = await deps.store.getSubscription(vault, name);
    if (!subscription || subscription.state !== 'AwaitingValidation') return subscription?.state === 'Active';
    const attempts = subscription.validationAttempts + 1;
    let failure: string | undefined;
    try {
      failure = await handshake(subscription);
    } catch (error) {
      failure = describeFailure(error);
    }
    const now = deps.clock.nowMs();
    const updated: SubscriptionRecord = failure
      ? {
          ...subscription,
          validationAttempts: attempts,
          lastError: failure,
          ...(attempts >= deps.retry.maxAttempts
            ? { state: 'Failed', nextValidationAt: undefined }
            : { nextValidationAt: now + retryDelayMs(deps.retry, attempts) }),
        }
      : {
          ...subscription,
          state: 'Active',
          validationAttempts: attempts,
          validatedAt: new Date(now).toISOString(),
          nextValidationAt: undefined,
          lastError: undefined,
        };
    const stillThere = await deps.store.transaction(async (tx) => {
      const current = await tx.readSubscription(vault, name);
      if (current?.id !== subscription.id) return false;
      await tx.writeSubscription(updated);
      if (updated.state === 'Failed') await tx.writeDeadLetter(handshakeDeadLetter(updated, now));
      return true;
    });
    if (!stillThere) return false;
    if (updated.state === 'Failed')
      deps.log.warn(
        { event: 'event-subscription-failed', vault, subscription: name, reason: failure },
        'events',
      );
    if (updated.nextValidationAt !== undefined)
      enqueue({ kind: 'validation', ref, subscription: ref, dueAt: updated.nextValidationAt });
    return updated.state === 'Active';
  }

  /** undefined when the endpoint completed the handshake, else why not. */
  async function handshake(subscription: SubscriptionRecord): Promise<string | undefined> {
    if (subscription.schema === 'CloudEventSchemaV1_0') {
      const answer = await deps.webhook.send(subscription.endpoint, 'OPTIONS', {
        'webhook-request-origin': 'eventgrid.azure.net',
      });
      return originAllowed(answer.status, answer.headers)
        ? undefined
        : `the endpoint answered the OPTIONS handshake ${answer.status} without WebHook-Allowed-Origin: eventgrid.azure.net`;
    }
    const request = validationRequest(
      subscription,
      await deps.topicOf(subscription.vault),
      deps.clock.nowMs(),
    );
    const answer = await deps.webhook.send(subscription.endpoint, 'POST', request.headers, request.body);
    return validationAnswered(answer.status, answer.body, subscription.validationCode)
      ? undefined
      : `the endpoint answered the validation handshake ${answer.status} without the validationResponse`;
  }

  return {
    /** Loads the outbox and the pending handshakes (after unseal) and starts delivering. */
    async start(): Promise<void> {
      for (const delivery of await deps.store.listDeliveries())
        jobs.set(keyOf({ kind: 'delivery', ref: delivery.id }), {
          kind: 'delivery',
          ref: delivery.id,
          subscription: subscriptionKey(delivery.vault, delivery.subscription),
          dueAt: delivery.nextAttemptAt,
        });
      for (const subscription of await deps.store.listSubscriptions()) {
        if (subscription.state !== 'AwaitingValidation') continue;
        const ref = subscriptionKey(subscription.vault, subscription.name);
        jobs.set(keyOf({ kind: 'validation', ref }), {
          kind: 'validation',
          ref,
          subscription: ref,
          dueAt: subscription.nextValidationAt ?? deps.clock.nowMs(),
        });
      }
      started = true;
      pump();
    },

    /** Stops starting jobs (seal, shutdown); requests in flight end within their deadline. */
    async stop(): Promise<void> {
      started = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      // Cleared first: a start() while this waits loads the outbox afresh, and keeps it.
      jobs.clear();
      deps.webhook.abortAll();
      await Promise.allSettled([...running]);
    },

    delivered(records: DeliveryRecord[]): void {
      for (const record of records)
        enqueue({
          kind: 'delivery',
          ref: record.id,
          subscription: subscriptionKey(record.vault, record.subscription),
          dueAt: record.nextAttemptAt,
        });
    },

    /** Runs the handshake now (the create call waits for it); later tries are scheduled. */
    async validateNow(subscription: SubscriptionRecord): Promise<void> {
      const ref = subscriptionKey(subscription.vault, subscription.name);
      jobs.delete(keyOf({ kind: 'validation', ref }));
      busy.add(ref);
      try {
        await validate(ref);
      } finally {
        busy.delete(ref);
        pump();
      }
    },

    /** Forgets a removed subscription's queued jobs (their rows are removed with it). */
    forget(vault: string, name: string): void {
      const subscription = subscriptionKey(vault, name);
      for (const [key, job] of jobs) if (job.subscription === subscription) jobs.delete(key);
    },

    /** How many rows wait in the outbox (metrics, status). */
    depth: () => [...jobs.values()].filter((job) => job.kind === 'delivery').length + running.size,
  };
}

function handshakeDeadLetter(subscription: SubscriptionRecord, now: number): DeadLetterRecord {
  return {
    id: `${now.toString(16).padStart(12, '0')}-validation-${subscription.id}`,
    vault: subscription.vault,
    subscription: subscription.name,
    subscriptionId: subscription.id,
    event: {
      id: subscription.id,
      type: VALIDATION_EVENT_TYPE,
      subject: '',
      time: new Date(now).toISOString(),
      topic: '',
      vault: subscription.vault,
      data: {},
    },
    attempts: subscription.validationAttempts,
    nextAttemptAt: now,
    lastError: subscription.lastError,
    deadLetteredAt: new Date(now).toISOString(),
    reason: `the endpoint never completed the subscription validation handshake (${subscription.validationAttempts} tries): ${subscription.lastError ?? ''}`,
  };
}
