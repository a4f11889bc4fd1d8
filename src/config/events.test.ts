import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEventsConfig } from './events.js';

describe('events configuration', () => {
  it("defaults to Event Grid's schedule; dev mode alone allows private endpoints", () => {
    const production = loadEventsConfig(undefined, {}, false);
    assert.equal(production.maxAttempts, 30);
    assert.equal(production.deliveryTimeoutSeconds, 30);
    assert.equal(production.allowPrivateEndpoints, false);
    assert.equal(loadEventsConfig(undefined, {}, true).allowPrivateEndpoints, true);
  });

  it('takes the environment over the file and names what is wrong', () => {
    const config = loadEventsConfig(
      { maxAttempts: 5, allowedHosts: ['Hooks.Internal'] },
      { COFFER_EVENTS_MAX_ATTEMPTS: '7', COFFER_EVENTS_RETRY_INITIAL_SECONDS: '0.5' },
      false,
    );
    assert.equal(config.maxAttempts, 7);
    assert.equal(config.retryInitialSeconds, 0.5);
    assert.deepEqual(config.allowedHosts, ['hooks.internal']);
    assert.throws(
      () => loadEventsConfig({ maxAttempts: 0 }, {}, false),
      /events.maxAttempts must be a whole number from 1/,
    );
    assert.throws(() => loadEventsConfig({ retries: 3 }, {}, false), /unknown events setting\(s\) retries/);
    assert.throws(
      () => loadEventsConfig({ retryInitialSeconds: 10, retryMaxSeconds: 1 }, {}, false),
      /retryMaxSeconds cannot be less/,
    );
  });
});
