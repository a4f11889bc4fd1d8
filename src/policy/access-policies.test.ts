import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthenticatedPrincipal } from '../identity/types.js';
import { type AccessPolicy, accessPolicyAllows, canonicalPermissions } from './access-policies.js';
import { CertificateActions, type DataAction, KeyActions, SecretActions } from './actions.js';

const principal: AuthenticatedPrincipal = {
  objectId: 'p-1',
  kind: 'ServicePrincipal',
  administrator: false,
  groups: ['g-1'],
};

const policy = (objectId: string, permissions: Partial<AccessPolicy['permissions']>): AccessPolicy => ({
  objectId,
  permissions: { keys: [], secrets: [], certificates: [], ...permissions },
});

/** Every data action and the one permission Azure's access policies require for it. */
const SECRET_MAP: [DataAction, string][] = [
  [SecretActions.get, 'get'],
  [SecretActions.readMetadata, 'list'],
  [SecretActions.set, 'set'],
  [SecretActions.update, 'set'],
  [SecretActions.delete, 'delete'],
  [SecretActions.backup, 'backup'],
  [SecretActions.restore, 'restore'],
  [SecretActions.recover, 'recover'],
  [SecretActions.purge, 'purge'],
];
const KEY_MAP: [DataAction, string][] = [
  [KeyActions.read, 'get'],
  [KeyActions.create, 'create'],
  [KeyActions.import, 'import'],
  [KeyActions.update, 'update'],
  [KeyActions.delete, 'delete'],
  [KeyActions.backup, 'backup'],
  [KeyActions.restore, 'restore'],
  [KeyActions.recover, 'recover'],
  [KeyActions.purge, 'purge'],
  [KeyActions.encrypt, 'encrypt'],
  [KeyActions.decrypt, 'decrypt'],
  [KeyActions.wrap, 'wrapKey'],
  [KeyActions.unwrap, 'unwrapKey'],
  [KeyActions.sign, 'sign'],
  [KeyActions.verify, 'verify'],
  [KeyActions.rotate, 'rotate'],
  [KeyActions.readRotationPolicy, 'getrotationpolicy'],
  [KeyActions.writeRotationPolicy, 'setrotationpolicy'],
];
const CERTIFICATE_MAP: [DataAction, string][] = [
  [CertificateActions.read, 'get'],
  [CertificateActions.create, 'create'],
  [CertificateActions.import, 'import'],
  [CertificateActions.update, 'update'],
  [CertificateActions.delete, 'delete'],
  [CertificateActions.backup, 'backup'],
  [CertificateActions.restore, 'restore'],
  [CertificateActions.recover, 'recover'],
  [CertificateActions.purge, 'purge'],
  [CertificateActions.manageContacts, 'managecontacts'],
  [CertificateActions.readIssuers, 'getissuers'],
  [CertificateActions.writeIssuers, 'setissuers'],
  [CertificateActions.deleteIssuers, 'deleteissuers'],
];

describe('accessPolicyAllows', () => {
  it('each secrets permission grants exactly its actions', () => {
    for (const [, permission] of SECRET_MAP) {
      const policies = [policy('p-1', { secrets: [permission] })];
      for (const [action, needed] of SECRET_MAP) {
        assert.equal(
          accessPolicyAllows(policies, principal, action),
          needed === permission,
          `${permission} vs ${action}`,
        );
      }
      for (const [action] of KEY_MAP) assert.equal(accessPolicyAllows(policies, principal, action), false);
    }
  });

  it('each keys permission grants exactly its actions', () => {
    for (const [, permission] of KEY_MAP) {
      const policies = [policy('p-1', { keys: [permission] })];
      for (const [action, needed] of KEY_MAP) {
        assert.equal(
          accessPolicyAllows(policies, principal, action),
          needed === permission,
          `${permission} vs ${action}`,
        );
      }
      for (const [action] of SECRET_MAP) assert.equal(accessPolicyAllows(policies, principal, action), false);
    }
  });

  it('each certificates permission grants exactly its actions; manageissuers covers every issuer action', () => {
    for (const [, permission] of CERTIFICATE_MAP) {
      const policies = [policy('p-1', { certificates: [permission] })];
      for (const [action, needed] of CERTIFICATE_MAP) {
        assert.equal(
          accessPolicyAllows(policies, principal, action),
          needed === permission,
          `${permission} vs ${action}`,
        );
      }
      for (const [action] of [...SECRET_MAP, ...KEY_MAP]) {
        assert.equal(accessPolicyAllows(policies, principal, action), false);
      }
    }
    const manageIssuers = [policy('p-1', { certificates: ['manageissuers'] })];
    const issuerActions = [
      CertificateActions.readIssuers,
      CertificateActions.writeIssuers,
      CertificateActions.deleteIssuers,
    ];
    for (const [action] of CERTIFICATE_MAP) {
      assert.equal(
        accessPolicyAllows(manageIssuers, principal, action),
        issuerActions.includes(action as never),
      );
    }
  });

  it('listing issuers needs listissuers and reading one needs getissuers', () => {
    const list = [policy('p-1', { certificates: ['listissuers'] })];
    assert.equal(accessPolicyAllows(list, principal, CertificateActions.readIssuers, true), true);
    assert.equal(accessPolicyAllows(list, principal, CertificateActions.readIssuers, false), false);
  });

  it('listing needs list and reading one object needs get, for secrets and keys alike', () => {
    const list = [policy('p-1', { secrets: ['list'], keys: ['list'], certificates: ['list'] })];
    const get = [policy('p-1', { secrets: ['get'], keys: ['get'], certificates: ['get'] })];
    for (const action of [SecretActions.readMetadata, KeyActions.read, CertificateActions.read]) {
      assert.equal(accessPolicyAllows(list, principal, action, true), true);
      assert.equal(accessPolicyAllows(list, principal, action, false), false);
      assert.equal(accessPolicyAllows(get, principal, action, true), false);
      assert.equal(accessPolicyAllows(get, principal, action, false), true);
    }
    // listing refines only the read actions: getting a secret's value is always `get`.
    assert.equal(accessPolicyAllows(list, principal, SecretActions.get, true), false);
  });

  it('all grants every permission of its kind and nothing of another kind', () => {
    const policies = [policy('p-1', { secrets: ['all'] })];
    for (const [action] of SECRET_MAP) assert.equal(accessPolicyAllows(policies, principal, action), true);
    for (const [action] of KEY_MAP) assert.equal(accessPolicyAllows(policies, principal, action), false);
  });

  it("counts the principal's groups and nobody else's policy", () => {
    assert.equal(
      accessPolicyAllows([policy('g-1', { secrets: ['get'] })], principal, SecretActions.get),
      true,
    );
    assert.equal(
      accessPolicyAllows([policy('p-2', { secrets: ['all'] })], principal, SecretActions.get),
      false,
    );
  });

  it('denies by default: no policies, or an action without an access-policy permission (rng)', () => {
    assert.equal(accessPolicyAllows(undefined, principal, SecretActions.get), false);
    assert.equal(accessPolicyAllows([], principal, SecretActions.get), false);
    assert.equal(accessPolicyAllows([policy('p-1', { keys: ['all'] })], principal, KeyActions.random), false);
  });
});

describe('canonicalPermissions', () => {
  it("takes Azure's names in any case, in Azure's spelling, without duplicates", () => {
    assert.deepEqual(canonicalPermissions('keys', ['Get', 'UNWRAPKEY', 'get', 'GetRotationPolicy']), [
      'get',
      'unwrapKey',
      'getrotationpolicy',
    ]);
  });

  it('refuses an unknown name with a 400 that lists the valid ones', () => {
    assert.throws(
      () => canonicalPermissions('secrets', ['read']),
      (error: Error & { status?: number }) =>
        error.status === 400 && /Use: get, list, set/.test(error.message),
    );
    assert.throws(() => canonicalPermissions('secrets', ['sign']), /not a secrets permission/);
  });
});
