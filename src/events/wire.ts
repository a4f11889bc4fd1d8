import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { EventSchema, SubscriptionRecord, VaultEvent } from './types.js';

/** What CloudEvents' webhook handshake names as the sender (Event Grid's own value). */
export const REQUEST_ORIGIN = 'eventgrid.azure.net';
export const VALIDATION_EVENT_TYPE = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/** An event in Event Grid's own schema. */
export function eventGridEvent(event: VaultEvent) {
  return {
    id: event.id,
    topic: event.topic,
    subject: event.subject,
    eventType: event.type,
    eventTime: event.time,
    data: event.data,
    dataVersion: '1',
    metadataVersion: '1',
  };
}

/** The same event in CloudEvents 1.0 (JSON format), as Event Grid sends it. */
export function cloudEvent(event: VaultEvent) {
  return {
    specversion: '1.0',
    id: event.id,
    source: event.topic,
    subject: event.subject,
    type: event.type,
    time: event.time,
    datacontenttype: 'application/json',
    data: event.data,
  };
}

/** A delivery's request: the body (an array of one event, as Event Grid batches) and its headers. */
export function deliveryRequest(
  event: VaultEvent,
  schema: EventSchema,
  subscription: string,
  deliveryCount: number,
): { body: string; headers: Record<string, string> } {
  const cloud = schema === 'CloudEventSchemaV1_0';
  return {
    body: JSON.stringify([cloud ? cloudEvent(event) : eventGridEvent(event)]),
    headers: {
      'content-type': cloud ? 'application/cloudevents-batch+json; charset=utf-8' : 'application/json',
      'aeg-event-type': 'Notification',
      'aeg-subscription-name': subscription.toUpperCase(),
      'aeg-delivery-count': String(deliveryCount),
      'aeg-data-version': '1',
      'aeg-metadata-version': '1',
    },
  };
}

/** Event Grid's handshake for its own schema: the endpoint must echo `validationCode`. */
export function validationRequest(subscription: SubscriptionRecord, topic: string, nowMs: number) {
  const event = {
    id: randomUUID(),
    topic: `${topic}/providers/Microsoft.EventGrid/eventSubscriptions/${subscription.name}`,
    subject: '',
    eventType: VALIDATION_EVENT_TYPE,
    eventTime: new Date(nowMs).toISOString(),
    data: { validationCode: subscription.validationCode },
    dataVersion: '2',
    metadataVersion: '1',
  };
  return {
    body: JSON.stringify([event]),
    headers: {
      'content-type': 'application/json',
      'aeg-event-type': 'SubscriptionValidation',
      'aeg-subscription-name': subscription.name.toUpperCase(),
      'aeg-data-version': '2',
      'aeg-metadata-version': '1',
    },
  };
}

/** Whether an answer to the handshake echoes the code (compared in constant time). */
export function validationAnswered(status: number, body: string, code: string): boolean {
  if (status !== 200) return false;
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return false;
  }
  const echoed = (answer as { validationResponse?: unknown } | null)?.validationResponse;
  if (typeof echoed !== 'string') return false;
  const given = Buffer.from(echoed, 'utf8');
  const wanted = Buffer.from(code, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** CloudEvents' webhook handshake (abuse protection): OPTIONS, answered with the allowed origin. */
export function originAllowed(status: number, headers: Record<string, string | string[] | undefined>) {
  if (status < 200 || status > 299) return false;
  const allowed = headers['webhook-allowed-origin'];
  const values = (Array.isArray(allowed) ? allowed : [allowed ?? '']).flatMap((value) => value.split(','));
  return values.some((value) => value.trim() === '*' || value.trim().toLowerCase() === REQUEST_ORIGIN);
}
