import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertsConfig } from '../../config/metrics.js';
import { type AuditRecord, CLAIMS } from '../record.js';
import { eventBody } from '../test-log.js';
import { BoundedMap } from './bounded-map.js';
import { alertRules, MAX_TRACKED_CALLERS } from './rules.js';
import type { Alert } from './types.js';

// The rules' windows and memory bounds, which the e2e suite cannot reach in reasonable time:
// requests spread wider than the window never alert, and state stays bounded.

const config: AlertsConfig = {
  enabled: true,
  refusedThreshold: 3,
  refusedWindowSeconds: 10,
  distinctSecretsThreshold: 3,
  distinctSecretsWindowSeconds: 10,
  newAddress: true,
  destructive: true,
  accessChanges: true,
};

function record(operation: string, status: number, caller: string, extra: Partial<AuditRecord> = {}) {
  const body = eventBody(operation, {
    identity: { claim: { [CLAIMS.objectId]: caller } },
    resultType: status < 400 ? 'Success' : 'Failure',
    ...extra,
  });
  body.properties = { ...body.properties, httpStatusCode: status, ...extra.properties };
  return { ...body, sequence: 1, previousHash: '', hash: '' } as AuditRecord;
}

function feed(rules: ReturnType<typeof alertRules>, records: Array<[AuditRecord, number]>): Alert[] {
  return records.flatMap(([entry, at]) =>
    rules.map((rule) => rule(entry, at)).filter((alert) => alert !== undefined),
  );
}

describe('alert rules', () => {
  it('refusals spread wider than the window never alert; inside it they do, once per window', () => {
    const rules = alertRules({ ...config, newAddress: false });
    const spread = feed(
      rules,
      [0, 6_000, 12_000, 18_000].map((at) => [record('SecretGet', 403, 'a'), at]),
    );
    assert.equal(spread.length, 0);
    const burst = feed(
      rules,
      [30_000, 30_001, 30_002, 30_003, 30_004, 30_005].map((at) => [record('SecretGet', 403, 'b'), at]),
    );
    assert.deepEqual(
      burst.map((alert) => [alert.rule, alert.caller]),
      [['refusedBurst', 'b']],
      'six refusals in a burst are one alert',
    );
    const later = feed(
      rules,
      [45_000, 45_001, 45_002].map((at) => [record('SecretGet', 403, 'b'), at]),
    );
    assert.equal(later.length, 1, 'the next window alerts again');
  });

  it('distinct secret reads count names, not reads, within the window', () => {
    const rules = alertRules({ ...config, newAddress: false });
    const read = (name: string, at: number): [AuditRecord, number] => [
      record('SecretGet', 200, 'reader', {
        properties: {
          id: `https://dev/secrets/${name}`,
          requestUri: '',
          httpStatusCode: 200,
          clientInfo: '',
        },
      }),
      at,
    ];
    assert.equal(feed(rules, [read('a', 0), read('a', 1), read('b', 2), read('b', 3)]).length, 0);
    assert.equal(feed(rules, [read('c', 20_000)]).length, 0, 'a and b left the window');
    const alerts = feed(rules, [read('d', 20_001), read('e', 20_002)]);
    assert.deepEqual(alerts[0]?.details, { distinctSecrets: 3, windowSeconds: 10 });
  });

  it('a new address alerts only after the first one is learned, and not for unproven identities', () => {
    const rules = alertRules({ ...config, refusedThreshold: 0 });
    const from = (address: string, status = 200) =>
      [record('SecretGet', status, 'p', { callerIpAddress: address }), 0] as [AuditRecord, number];
    assert.equal(feed(rules, [from('10.0.0.1'), from('10.0.0.1')]).length, 0);
    assert.equal(feed(rules, [from('10.0.0.2', 401)]).length, 0, 'a 401 proves no identity');
    assert.deepEqual(
      feed(rules, [from('10.0.0.2')]).map((alert) => alert.details['address']),
      ['10.0.0.2'],
    );
  });

  it('keeps at most the bound of callers, forgetting the least recently seen', () => {
    const map = new BoundedMap<string, number>(3);
    for (const key of ['a', 'b', 'c']) map.set(key, 1);
    map.get('a');
    map.set('d', 1);
    assert.equal(map.size, 3);
    assert.equal(map.get('b'), undefined, 'b was the least recently used');
    assert.equal(map.get('a'), 1);
    const rules = alertRules({ ...config, newAddress: false });
    for (let index = 0; index < MAX_TRACKED_CALLERS + 50; index++)
      feed(rules, [[record('SecretGet', 403, `caller-${index}`), 0]]);
    // The first callers were forgotten: two more refusals do not complete their burst.
    assert.equal(
      feed(rules, [
        [record('SecretGet', 403, 'caller-0'), 1],
        [record('SecretGet', 403, 'caller-0'), 2],
      ]).length,
      0,
    );
  });
});
