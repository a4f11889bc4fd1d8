import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../lib/clock.js';
import { requestCost } from './request-cost.js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AZURE_LIMITS,
  createVaultThrottle,
  THROTTLE_SHARE_INTERVAL_MS,
  type ThrottleShare,
  VaultThrottled,
} from './vault-throttle.js';

const vault = (throttle: 'azure' | 'off' | number) => ({ id: 'v1', name: 'limited', throttle });
const get = { method: 'GET', route: '/secrets/:name', params: { name: 'a' }, body: undefined };
const sign = {
  method: 'POST',
  route: '/keys/:name/:version/sign',
  params: { name: 'k', version: 'x' },
  body: {},
};
const setSecret = { method: 'PUT', route: '/secrets/:name', params: { name: 'a' }, body: {} };

/** How many requests of one kind are admitted in a row before the first 429. */
function admittedInARow(
  throttle: ReturnType<typeof createVaultThrottle>,
  target: ReturnType<typeof vault>,
  cost: { creates: number; units: number },
) {
  for (let count = 0; count < 100_000; count++) {
    try {
      throttle.admit(target, cost);
    } catch (error) {
      assert.ok(error instanceof VaultThrottled);
      return count;
    }
  }
  return Infinity;
}

describe('per-vault throttle with Azure service limits', () => {
  it("admits Azure's numbers per 10 seconds: 4,000 secret reads, 300 creates, 500 RSA-4096 operations", async () => {
    const rsa4096 = await requestCost(sign, async () => ({ hsm: false, rsaBits: 4096 }));
    const hsm2048 = await requestCost(sign, async () => ({ hsm: true, rsaBits: 2048 }));
    const cases: Array<[string, { creates: number; units: number }, number]> = [
      ['secret get', await requestCost(get, async () => undefined), AZURE_LIMITS.transactions],
      ['secret create', await requestCost(setSecret, async () => undefined), AZURE_LIMITS.creates],
      ['RSA-4096 software sign', rsa4096, 500],
      ['RSA-2048 HSM sign', hsm2048, 2000],
    ];
    for (const [label, cost, expected] of cases) {
      const throttle = createVaultThrottle(new ManualClock(0));
      assert.equal(admittedInARow(throttle, vault('azure'), cost), expected, label);
    }
  });

  it('weighs mixed key operations by their sum, as Azure does', async () => {
    const throttle = createVaultThrottle(new ManualClock(0));
    const rsa4096 = await requestCost(sign, async () => ({ hsm: true, rsaBits: 4096 }));
    const rsa2048 = await requestCost(sign, async () => ({ hsm: true, rsaBits: 2048 }));
    // Azure's own example: 248 RSA-4096 HSM operations leave room for 16 RSA-2048 HSM ones.
    for (let i = 0; i < 248; i++) throttle.admit(vault('azure'), rsa4096);
    assert.equal(admittedInARow(throttle, vault('azure'), rsa2048), 16);
  });

  it('N counts every request alike, answers Retry-After until a slot frees, and refills over the window', () => {
    const clock = new ManualClock(0);
    const throttle = createVaultThrottle(clock);
    const heavy = { creates: 1, units: 8 };
    assert.equal(admittedInARow(throttle, vault(5), heavy), 5);
    try {
      throttle.admit(vault(5), heavy);
      assert.fail('throttled');
    } catch (error) {
      const refused = error as VaultThrottled;
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '2', 'one of 5 slots per 10 s frees in 2 s');
      assert.match(refused.message, /too many requests were received/);
    }
    clock.advance(2000);
    throttle.admit(vault(5), heavy);
    assert.deepEqual(throttle.throttledCounts(), { limited: 2 });
    assert.equal(admittedInARow(throttle, vault('off'), heavy), Infinity);
  });
});

/** Members joined the way the cluster's feed joins them: a publish reaches every other member. */
function installation() {
  const handlers: Array<(body: string) => void> = [];
  const raw = (from: number, body: string) =>
    handlers.forEach((handler, index) => index !== from && handler(body));
  const member = (index: number): ThrottleShare => ({
    publish: (body) => raw(index, body),
    onMessage: (handler) => {
      handlers[index] = handler;
    },
  });
  return { member, raw };
}

const reported = () => sleep(THROTTLE_SHARE_INTERVAL_MS + 50);
const one = { creates: 0, units: 1 };

describe('a vault throttle shared by the members of an installation', () => {
  it('takes from each member what the others admitted, once they report it', async () => {
    const clock = new ManualClock(0);
    const { member } = installation();
    const a = createVaultThrottle(clock, member(0));
    const b = createVaultThrottle(clock, member(1));
    const target = vault(20);
    for (let i = 0; i < 15; i++) a.admit(target, one);
    await reported();
    assert.equal(admittedInARow(b, target, one), 5, 'B admits what is left of the vault allowance');
    await reported();
    assert.throws(() => a.admit(target, one), VaultThrottled, 'and A hears of what B admitted');
    // The allowance refills for both alike.
    clock.advance(5_000);
    assert.equal(admittedInARow(a, target, one), 10);
  });

  it("shares Azure's creates bucket too", async () => {
    const clock = new ManualClock(0);
    const { member } = installation();
    const a = createVaultThrottle(clock, member(0));
    const b = createVaultThrottle(clock, member(1));
    const create = await requestCost(setSecret, async () => undefined);
    for (let i = 0; i < AZURE_LIMITS.creates - 1; i++) a.admit(vault('azure'), create);
    await reported();
    assert.equal(admittedInARow(b, vault('azure'), create), 1);
  });

  it('ignores reports made under another setting, and anything else on the topic', async () => {
    const clock = new ManualClock(0);
    const { member, raw } = installation();
    const a = createVaultThrottle(clock, member(0));
    const b = createVaultThrottle(clock, member(1));
    for (let i = 0; i < 15; i++) a.admit(vault(30), one);
    b.admit(vault(20), one); // B's vault setting is now 20: A's report under 30 does not apply
    await reported();
    for (const junk of [
      '',
      'not json',
      '{"vault":"v1"}',
      JSON.stringify({ vault: 'v1', name: 'limited', setting: 20, units: -5, creates: 0 }),
    ])
      raw(0, junk);
    assert.equal(admittedInARow(b, vault(20), one), 19);
  });
});
