import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { SecureStore, SecureTransaction } from '../barrier/secure-store.js';
import { ManualClock } from '../lib/clock.js';
import { createIdentity } from './identity.js';
import { PRINCIPAL_CACHE_MS } from './principal-service.js';
import type { SigningKey } from './signing-key.js';
import { CLOCK_TOLERANCE_SECONDS, TOKEN_LIFETIME_SECONDS } from './token-service.js';

// The verified-token cache on the hot path of every request: bounded, never past a token's
// expiry, and never a reason to honour a revoked principal or credential longer than the
// directory's 30 s (at once on the process that made the change).

const TENANT = '00000000-0000-4000-8000-000000000000';
const AUDIENCE = 'https://vault.localhost';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey: SigningKey = { kid: 'test', privateKey, publicKey, publicJwk: {} };

/** A SecureStore in a Map, shared by the "processes" of a test as one database would be. */
function memoryStore(): SecureStore {
  const data = new Map<string, Buffer>();
  const view: SecureTransaction = {
    get: async (path) => data.get(path),
    list: async (prefix) =>
      [...data.keys()]
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length))
        .sort(),
    put: async (path, value) => void data.set(path, Buffer.from(value)),
    delete: async (path) => void data.delete(path),
  };
  return { ...view, transaction: (work) => work(view) };
}

function identityOn(store: SecureStore, clock: ManualClock, verifiedTokenLimit?: number) {
  return createIdentity({
    store,
    codeStore: memoryStore(),
    clock,
    signingKey: () => signingKey,
    tenantId: () => TENANT,
    issuerBase: () => 'https://localhost:8443',
    audiences: () => [AUDIENCE],
    verifiedTokenLimit,
    claim: () => {
      throw new Error('no client assertions here');
    },
  });
}

async function tokenFor(identity: ReturnType<typeof identityOn>, clientId: string, clientSecret: string) {
  const response = await identity.tokens.issue({
    tenantId: TENANT,
    grantType: 'client_credentials',
    scope: `${AUDIENCE}/.default`,
    clientId,
    clientSecret,
    clientAssertion: undefined,
    clientAssertionType: undefined,
  });
  return response.access_token;
}

describe('verified-token cache', () => {
  it('verifies a token once, and stops honouring it when it expires even though it is cached', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const identity = identityOn(memoryStore(), clock);
    const sp = await identity.principals.create({ name: 'reader' });
    const token = await tokenFor(identity, sp.clientId, sp.clientSecret);
    assert.equal((await identity.tokens.authenticate(token))?.objectId, sp.objectId);
    assert.equal((await identity.tokens.authenticate(token))?.objectId, sp.objectId);
    assert.equal(identity.tokens.cachedTokens(), 1, 'the second request was served from the cache');

    // Honoured as long as a fresh verification would: up to exp plus the allowed clock skew.
    clock.advance((TOKEN_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) * 1000 - 1);
    assert.ok(await identity.tokens.authenticate(token), 'still valid 1 ms before exp + skew');
    assert.equal(identity.tokens.cachedTokens(), 1);
    clock.advance(1);
    assert.equal(await identity.tokens.authenticate(token), undefined);
    assert.equal(identity.tokens.cachedTokens(), 0, 'the expired entry is gone, and not re-cached');
  });

  it('refuses a disabled principal at once on this process, and within 30 s on another', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const store = memoryStore();
    const here = identityOn(store, clock);
    const elsewhere = identityOn(store, clock); // another process on the same database
    const sp = await here.principals.create({ name: 'app' });
    const token = await tokenFor(here, sp.clientId, sp.clientSecret);
    assert.ok(await here.tokens.authenticate(token));
    assert.ok(await elsewhere.tokens.authenticate(token));

    await here.principals.update(sp.objectId, { enabled: false });
    assert.equal(await here.tokens.authenticate(token), undefined, 'refused at once where it changed');
    clock.advance(PRINCIPAL_CACHE_MS);
    assert.ok(await elsewhere.tokens.authenticate(token), 'another process may lag, but not beyond 30 s');
    clock.advance(1);
    assert.equal(await elsewhere.tokens.authenticate(token), undefined, 'refused 30 s after the change');
  });

  it('refuses the tokens of a replaced secret at once, though they are cached', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const identity = identityOn(memoryStore(), clock);
    const sp = await identity.principals.create({ name: 'rotating' });
    const oldToken = await tokenFor(identity, sp.clientId, sp.clientSecret);
    assert.ok(await identity.tokens.authenticate(oldToken));
    const renewed = await identity.principals.resetSecret(sp.objectId);
    assert.equal(await identity.tokens.authenticate(oldToken), undefined);
    const newToken = await tokenFor(identity, sp.clientId, renewed.clientSecret);
    assert.ok(await identity.tokens.authenticate(newToken));
  });

  it('keeps at most its limit, and a token that fell out is verified again, not refused', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const identity = identityOn(memoryStore(), clock, 3);
    const sp = await identity.principals.create({ name: 'busy' });
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      tokens.push(await tokenFor(identity, sp.clientId, sp.clientSecret));
      clock.advance(1000); // distinct iat and exp
    }
    for (const token of tokens) assert.ok(await identity.tokens.authenticate(token));
    assert.equal(identity.tokens.cachedTokens(), 3);
    assert.ok(await identity.tokens.authenticate(tokens[0]!), 'evicted, then verified again');
    assert.equal(identity.tokens.cachedTokens(), 3);
  });

  it('never caches a token that does not verify', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const identity = identityOn(memoryStore(), clock);
    const sp = await identity.principals.create({ name: 'tampered' });
    const token = await tokenFor(identity, sp.clientId, sp.clientSecret);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
    assert.equal(await identity.tokens.authenticate(forged), undefined);
    assert.equal(identity.tokens.cachedTokens(), 0);
  });
});
