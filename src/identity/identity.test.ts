import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecureStore, SecureTransaction } from '../barrier/secure-store.js';
import { ManualClock } from '../lib/clock.js';
import { createIdentity } from './identity.js';
import { PRINCIPAL_CACHE_MS } from './principal-service.js';

/** A SecureStore in a Map: enough for the identity services, which only get, put, list and delete. */
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

function identityFor(clock: ManualClock) {
  return createIdentity({
    store: memoryStore(),
    codeStore: memoryStore(),
    clock,
    signingKey: () => {
      throw new Error('not needed');
    },
    tenantId: () => '00000000-0000-4000-8000-000000000000',
    issuerBase: () => 'https://localhost:8443',
    audiences: () => ['https://vault.localhost'],
    claim: () => {
      throw new Error('not needed');
    },
  });
}

describe('identity directory: principals, users and their groups', () => {
  it('fills groups transitively for users and service principals, and follows changes', async () => {
    const clock = new ManualClock();
    const identity = identityFor(clock);
    const sp = await identity.principals.create({ name: 'ci' });
    const alice = await identity.users.create({
      userPrincipalName: 'alice@coffer.test',
      password: 'correct horse battery',
    });
    const readers = await identity.groups.create({ displayName: 'readers' });
    const team = await identity.groups.create({ displayName: 'team' });
    await identity.groups.addMember('readers', 'alice@coffer.test');
    await identity.groups.addMember(readers.objectId, sp.clientId);
    await identity.groups.addMember('team', readers.objectId);

    const user = await identity.directory.current(alice.objectId);
    assert.equal(user?.kind, 'User');
    assert.deepEqual(user?.groups, [readers.objectId, team.objectId].sort());
    const app = await identity.directory.current(sp.objectId);
    assert.equal(app?.kind, 'ServicePrincipal');
    assert.deepEqual(app?.groups, [readers.objectId, team.objectId].sort());

    // A change on this node counts at once.
    await identity.groups.removeMember('readers', alice.objectId);
    assert.deepEqual((await identity.directory.current(alice.objectId))?.groups, []);
    await identity.users.remove(alice.objectId);
    assert.equal(await identity.directory.current(alice.objectId), undefined);
    assert.deepEqual((await identity.groups.find('readers')).members, [sp.objectId]);
  });

  it('refuses disabled users and wrong passwords, and a disabled principal disappears', async () => {
    const clock = new ManualClock();
    const identity = identityFor(clock);
    await assert.rejects(
      identity.users.create({ userPrincipalName: 'bob@coffer.test', password: 'short' }),
      /at least 12/,
    );
    const bob = await identity.users.create({
      userPrincipalName: 'bob@coffer.test',
      password: 'a long enough password',
    });
    await assert.rejects(
      identity.users.create({ userPrincipalName: 'BOB@coffer.test', password: 'a long enough password' }),
      /already exists/,
    );
    assert.equal(
      (await identity.users.verifyPassword('BOB@coffer.test', 'a long enough password'))?.objectId,
      bob.objectId,
    );
    assert.equal(await identity.users.verifyPassword('bob@coffer.test', 'a long enough passworD'), undefined);
    assert.equal(
      await identity.users.verifyPassword('nobody@coffer.test', 'a long enough password'),
      undefined,
    );
    await identity.users.update(bob.objectId, { enabled: false });
    assert.equal(await identity.users.verifyPassword('bob@coffer.test', 'a long enough password'), undefined);
    assert.equal(await identity.directory.current(bob.objectId), undefined);

    const sp = await identity.principals.create({ name: 'app' });
    assert.ok(await identity.directory.current(sp.objectId));
    await identity.principals.update(sp.clientId, { enabled: false });
    assert.equal(await identity.directory.current(sp.objectId), undefined);
    clock.advance(PRINCIPAL_CACHE_MS + 1);
    assert.equal(await identity.directory.current(sp.objectId), undefined);
  });
});
