import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPolicyUpdate,
  editIpRule,
  MAX_ACCESS_POLICIES,
  patchNetworkAcls,
  policyChanges,
} from './access-control.js';

const entry = (objectId: string, secrets: string[], keys: string[] = []) => ({
  objectId,
  permissions: { secrets, keys, certificates: [] },
});

describe('access policy updates (Azure accessPolicies/{add|replace|remove})', () => {
  it('add creates a policy, then merges permissions into it', () => {
    let policies = applyPolicyUpdate([], 'add', [{ objectId: 'A', permissions: { secrets: ['Get'] } }]);
    assert.deepEqual(policies, [entry('a', ['get'])]);
    policies = applyPolicyUpdate(policies, 'add', [
      { objectId: 'a', permissions: { secrets: ['list', 'get'], keys: ['sign'] } },
    ]);
    assert.deepEqual(policies, [entry('a', ['get', 'list'], ['sign'])]);
  });

  it('replace sets the permissions; remove takes some away, or the whole policy', () => {
    let policies = applyPolicyUpdate([entry('a', ['get', 'list'])], 'replace', [
      { objectId: 'a', permissions: { keys: ['get'] } },
    ]);
    assert.deepEqual(policies, [entry('a', [], ['get'])]);
    policies = applyPolicyUpdate([entry('a', ['get', 'list'])], 'remove', [
      { objectId: 'a', permissions: { secrets: ['get'] } },
    ]);
    assert.deepEqual(policies, [entry('a', ['list'])]);
    assert.deepEqual(applyPolicyUpdate(policies, 'remove', [{ objectId: 'a' }]), []);
    assert.deepEqual(
      applyPolicyUpdate(policies, 'remove', [{ objectId: 'a', permissions: { secrets: ['list'] } }]),
      [],
    );
  });

  it('tells the audit trail what changed, principal by principal', () => {
    const before = [entry('a', ['get']), entry('b', ['list'])];
    const after = applyPolicyUpdate(before, 'replace', [
      { objectId: 'a', permissions: { secrets: ['get', 'set'] } },
      { objectId: 'c', permissions: { keys: ['sign'] } },
    ]);
    assert.deepEqual(policyChanges(before, after), [
      {
        objectId: 'a',
        before: entry('a', ['get']).permissions,
        after: entry('a', ['get', 'set']).permissions,
      },
      { objectId: 'c', before: null, after: entry('c', [], ['sign']).permissions },
    ]);
    assert.deepEqual(policyChanges(after, applyPolicyUpdate(after, 'remove', [{ objectId: 'c' }])), [
      { objectId: 'c', before: entry('c', [], ['sign']).permissions, after: null },
    ]);
  });

  it('refuses unknown permissions, unknown principals on remove, and more than the limit', () => {
    assert.throws(
      () => applyPolicyUpdate([], 'add', [{ objectId: 'a', permissions: { secrets: ['read'] } }]),
      /not a secrets permission/,
    );
    assert.throws(() => applyPolicyUpdate([], 'remove', [{ objectId: 'a' }]), /no access policy/);
    const many = Array.from({ length: MAX_ACCESS_POLICIES + 1 }, (_, i) => ({
      objectId: `p${i}`,
      permissions: { secrets: ['get'] },
    }));
    assert.throws(() => applyPolicyUpdate([], 'add', many), /at most 1024/);
  });
});

describe('network rule edits', () => {
  it('patches the default action and rules, normalising and checking each rule', () => {
    assert.deepEqual(patchNetworkAcls(undefined, { defaultAction: 'Deny' }), {
      defaultAction: 'Deny',
      ipRules: [],
    });
    assert.deepEqual(
      patchNetworkAcls(
        { defaultAction: 'Deny', ipRules: ['10.0.0.0/8'] },
        { ipRules: [{ value: '2001:db8::/32' }, { value: '127.0.0.1' }] },
      ),
      { defaultAction: 'Deny', ipRules: ['2001:db8::/32', '127.0.0.1/32'] },
    );
    assert.throws(
      () => patchNetworkAcls(undefined, { ipRules: [{ value: '10.0.0.0/33' }] }),
      /not an IP address range/,
    );
    assert.throws(() => patchNetworkAcls(undefined, { defaultAction: 'deny' }), /Allow or Deny/);
  });

  it('adds a rule once and removes it; removing a missing rule says so', () => {
    const added = editIpRule(undefined, 'add', '::1');
    assert.deepEqual(added, { defaultAction: 'Allow', ipRules: ['::1/128'] });
    assert.deepEqual(editIpRule(added, 'add', '::1/128'), added);
    assert.deepEqual(editIpRule(added, 'remove', '::1'), { defaultAction: 'Allow', ipRules: [] });
    assert.throws(() => editIpRule(added, 'remove', '::2'), /no IP rule/);
  });
});
