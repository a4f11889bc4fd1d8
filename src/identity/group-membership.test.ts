import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMembershipIndex, transitiveGroups } from './group-membership.js';
import type { GroupRecord } from './types.js';

const group = (objectId: string, members: string[]): GroupRecord => ({
  objectId,
  displayName: objectId,
  description: '',
  members,
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('transitive group membership', () => {
  it('finds direct, nested and multiply-reached groups once each, sorted', () => {
    const index = buildMembershipIndex([
      group('g-readers', ['user-1', 'sp-1']),
      group('g-team', ['g-readers', 'user-2']),
      group('g-all', ['g-team', 'g-readers']),
      group('g-other', ['user-2']),
    ]);
    assert.deepEqual(transitiveGroups('user-1', index), ['g-all', 'g-readers', 'g-team']);
    assert.deepEqual(transitiveGroups('sp-1', index), ['g-all', 'g-readers', 'g-team']);
    assert.deepEqual(transitiveGroups('user-2', index), ['g-all', 'g-other', 'g-team']);
    assert.deepEqual(transitiveGroups('g-team', index), ['g-all']);
    assert.deepEqual(transitiveGroups('nobody', index), []);
  });

  it('terminates on cycles and never lists a group as its own member', () => {
    const index = buildMembershipIndex([group('a', ['b', 'user']), group('b', ['a'])]);
    assert.deepEqual(transitiveGroups('user', index), ['a', 'b']);
    assert.deepEqual(transitiveGroups('a', index), ['b']);
  });
});
