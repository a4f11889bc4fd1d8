import type { GroupRecord } from './types.js';

/** Which groups list each object id as a direct member: the reverse of `group.members`. */
export type MembershipIndex = ReadonlyMap<string, readonly string[]>;

export function buildMembershipIndex(groups: readonly GroupRecord[]): MembershipIndex {
  const index = new Map<string, string[]>();
  for (const group of groups) {
    for (const member of group.members) {
      const parents = index.get(member);
      if (parents) parents.push(group.objectId);
      else index.set(member, [group.objectId]);
    }
  }
  return index;
}

/**
 * Every group `objectId` belongs to, directly or through nested groups, as Entra's
 * transitiveMemberOf. Cycles (A in B, B in A) are tolerated: each group is visited once.
 * Sorted, so two nodes report the same list.
 */
export function transitiveGroups(objectId: string, index: MembershipIndex): string[] {
  const found = new Set<string>();
  const pending = [...(index.get(objectId) ?? [])];
  while (pending.length > 0) {
    const group = pending.pop()!;
    if (found.has(group) || group === objectId) continue;
    found.add(group);
    pending.push(...(index.get(group) ?? []));
  }
  return [...found].sort();
}
