import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs } from './dispatcher.js';
import { stageOf } from './expiry-sweep.js';
import { deliveryRequest, originAllowed, validationAnswered } from './wire.js';

const DAY_MS = 24 * 3600 * 1000;

describe('event wire formats and schedules', () => {
  const event = {
    id: 'e1',
    type: 'Microsoft.KeyVault.SecretNewVersionCreated',
    subject: 'a',
    time: '2026-12-04T00:00:00.000Z',
    topic: '/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v',
    vault: 'v',
    data: { ObjectName: 'a' },
  };

  it('puts one event in an array in either schema, with Event Grid headers', () => {
    const grid = deliveryRequest(event, 'EventGridSchema', 'sub', 3);
    assert.deepEqual(JSON.parse(grid.body), [
      {
        id: 'e1',
        topic: event.topic,
        subject: 'a',
        eventType: event.type,
        eventTime: event.time,
        data: event.data,
        dataVersion: '1',
        metadataVersion: '1',
      },
    ]);
    assert.equal(grid.headers['aeg-delivery-count'], '3');
    assert.equal(grid.headers['aeg-event-type'], 'Notification');
    const cloud = deliveryRequest(event, 'CloudEventSchemaV1_0', 'sub', 1);
    const [parsed] = JSON.parse(cloud.body) as Array<Record<string, unknown>>;
    assert.equal(parsed!['specversion'], '1.0');
    assert.equal(parsed!['source'], event.topic);
    assert.equal(parsed!['type'], event.type);
    assert.match(cloud.headers['content-type']!, /cloudevents-batch\+json/);
  });

  it('accepts the handshake only with the exact code in a 200', () => {
    assert.equal(validationAnswered(200, '{"validationResponse":"abc"}', 'abc'), true);
    assert.equal(validationAnswered(200, '{"validationResponse":"abd"}', 'abc'), false);
    assert.equal(validationAnswered(200, '{"validationResponse":"ab"}', 'abc'), false);
    assert.equal(validationAnswered(202, '{"validationResponse":"abc"}', 'abc'), false);
    assert.equal(validationAnswered(200, 'not json', 'abc'), false);
    assert.equal(validationAnswered(200, 'null', 'abc'), false);
    assert.equal(originAllowed(200, { 'webhook-allowed-origin': 'eventgrid.azure.net' }), true);
    assert.equal(originAllowed(200, { 'webhook-allowed-origin': '*' }), true);
    assert.equal(originAllowed(200, {}), false);
    assert.equal(originAllowed(404, { 'webhook-allowed-origin': '*' }), false);
  });

  it('backs off exponentially within ±20%, never past the maximum', () => {
    const settings = { initialMs: 1000, maxMs: 60_000 };
    for (let attempts = 1; attempts <= 12; attempts++) {
      const base = Math.min(60_000, 1000 * 2 ** (attempts - 1));
      const delay = retryDelayMs(settings, attempts);
      assert.ok(delay >= base * 0.8 && delay <= base * 1.2, `try ${attempts}: ${delay}`);
    }
  });

  it('is near expiry from N days before exp, expired from exp', () => {
    const exp = 100 * DAY_MS;
    assert.equal(stageOf(exp, exp - 31 * DAY_MS, 30), undefined);
    assert.equal(stageOf(exp, exp - 30 * DAY_MS, 30), 'nearExpiry');
    assert.equal(stageOf(exp, exp - 1, 30), 'nearExpiry');
    assert.equal(stageOf(exp, exp, 30), 'expired');
  });
});
