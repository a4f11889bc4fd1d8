import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import { createCacheEpoch } from '../lib/cache-epoch.js';
import type { Clock } from '../lib/clock.js';
import { isUuid, newUuid } from '../lib/ids.js';
import { buildMembershipIndex, type MembershipIndex, transitiveGroups } from './group-membership.js';
import type { GroupRecord } from './types.js';
import type { GroupStore } from './user-store.js';

const DISPLAY_NAME_PATTERN = /^[^\p{Cc}/]{1,120}$/u;
const MAX_MEMBERS = 5_000;

/**
 * Groups and their (transitive) memberships. The reverse index is rebuilt from the store at
 * most every `cacheMs`, and at once after a change on this node: the same bound as principals.
 */
export function createGroupService(deps: {
  store: GroupStore;
  clock: Clock;
  cacheMs: number;
  /** The object id of a user, service principal or group named by objectId, clientId or UPN. */
  resolveMember: (id: string) => Promise<string | undefined>;
  changed: () => void;
}) {
  const { store, clock } = deps;
  let index: { value: MembershipIndex; loadedAt: number } | undefined;
  const epoch = createCacheEpoch();

  async function membership(): Promise<MembershipIndex> {
    if (!index || clock.nowMs() - index.loadedAt > deps.cacheMs) {
      const keep = epoch.begin();
      const loaded = { value: buildMembershipIndex(await store.list()), loadedAt: clock.nowMs() };
      if (!keep()) return loaded.value;
      index = loaded;
    }
    return index.value;
  }

  async function save(record: GroupRecord): Promise<GroupRecord> {
    await store.save(record);
    index = undefined;
    deps.changed();
    return record;
  }

  /** By objectId, or by displayName when exactly one group has it (as `az ad group show`). */
  async function find(id: string): Promise<GroupRecord> {
    const byId = isUuid(id) ? await store.get(id.toLowerCase()) : undefined;
    if (byId) return byId;
    const named = (await store.list()).filter((group) => group.displayName === id);
    if (named.length === 1) return named[0]!;
    if (named.length > 1)
      throw new Conflict(`Several groups are named '${id}': use the object id.`, 'AmbiguousName');
    throw new NotFound('GroupNotFound', `No group has the object id or display name '${id.slice(0, 200)}'.`);
  }

  async function memberId(id: string): Promise<string> {
    const objectId = await deps.resolveMember(id);
    if (!objectId) {
      throw new NotFound(
        'PrincipalNotFound',
        `No user, service principal or group is named '${id.slice(0, 200)}'.`,
      );
    }
    return objectId;
  }

  /** Takes a deleted object out of every group that lists it. */
  async function forget(objectId: string): Promise<void> {
    for (const group of await store.list()) {
      if (group.members.includes(objectId)) {
        await store.save({ ...group, members: group.members.filter((m) => m !== objectId) });
      }
    }
    index = undefined;
    deps.changed();
  }

  return {
    find,
    list: () => store.list(),
    clearCache: () => {
      epoch.bump();
      index = undefined;
    },

    async create(input: { displayName: string; description?: string }): Promise<GroupRecord> {
      if (typeof input.displayName !== 'string' || !DISPLAY_NAME_PATTERN.test(input.displayName)) {
        throw new BadParameter('displayName must be 1-120 printable characters, without /.');
      }
      return save({
        objectId: newUuid(),
        displayName: input.displayName,
        description: typeof input.description === 'string' ? input.description.slice(0, 1024) : '',
        members: [],
        createdAt: new Date(clock.nowMs()).toISOString(),
      });
    },

    async remove(id: string): Promise<void> {
      const group = await find(id);
      await store.remove(group.objectId);
      await forget(group.objectId);
    },

    async addMember(id: string, member: string): Promise<GroupRecord> {
      const group = await find(id);
      const objectId = await memberId(member);
      if (objectId === group.objectId) throw new BadParameter('A group cannot be a member of itself.');
      if (group.members.includes(objectId)) return group;
      if (group.members.length >= MAX_MEMBERS)
        throw new BadParameter(`A group has at most ${MAX_MEMBERS} members.`);
      return save({ ...group, members: [...group.members, objectId] });
    },

    async removeMember(id: string, member: string): Promise<GroupRecord> {
      const group = await find(id);
      // A member that no longer exists can still be taken out by its object id.
      const objectId = isUuid(member) ? member.toLowerCase() : await memberId(member);
      if (!group.members.includes(objectId)) {
        throw new NotFound(
          'MemberNotFound',
          `'${member.slice(0, 200)}' is not a direct member of group '${group.displayName}'.`,
        );
      }
      return save({ ...group, members: group.members.filter((m) => m !== objectId) });
    },

    forget,

    /** Object ids of every group `objectId` belongs to, directly or through nested groups. */
    groupsOf: async (objectId: string) => transitiveGroups(objectId, await membership()),

    /** The same, as `{objectId, displayName}` for the admin API (Graph's transitiveMemberOf). */
    async memberOf(objectId: string): Promise<{ objectId: string; displayName: string }[]> {
      const ids = transitiveGroups(objectId, await membership());
      const records = await Promise.all(ids.map((id) => store.get(id)));
      return records.flatMap((group) =>
        group ? [{ objectId: group.objectId, displayName: group.displayName }] : [],
      );
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
