import { readJson, type SecureReader, type SecureStore, writeJson } from '../barrier/secure-store.js';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { validateResourceGroupName } from './resource-ids.js';

export interface ResourceGroupRecord {
  /** As created: ids show the group's name in its original case; lookups ignore case. */
  name: string;
  location: string;
  tags: Record<string, string>;
  createdAt: string;
}

/** Azure's limit of resource groups per subscription. */
export const MAX_RESOURCE_GROUPS = 980;
/** All groups in one record: few and small, and their names stay inside the encrypted value. */
const RECORD = 'resource-groups';

type GroupMap = Record<string, ResourceGroupRecord>;

/**
 * Resource groups: a namespace of Resource Manager that Coffer keeps only as an attribute of
 * vaults (vault names are global, as in Azure). The default group always exists: vaults made
 * outside Resource Manager (`coffer vault create`) belong to it.
 */
export function createResourceGroups(deps: {
  store: SecureStore;
  clock: Clock;
  defaultGroup: string;
  location: string;
}) {
  const key = (name: string) => name.toLowerCase();
  // Without a prototype: a group named `__proto__` or `constructor` is a key like any other, not
  // a member of Object.prototype that a lookup would find.
  const load = async (reader: SecureReader = deps.store): Promise<GroupMap> =>
    Object.assign(Object.create(null) as GroupMap, await readJson<GroupMap>(reader, RECORD));
  const implicitDefault = (): ResourceGroupRecord => ({
    name: deps.defaultGroup,
    location: deps.location,
    tags: {},
    createdAt: new Date(0).toISOString(),
  });

  async function find(name: string): Promise<ResourceGroupRecord | undefined> {
    const found = (await load())[key(name)];
    if (found) return found;
    return key(name) === key(deps.defaultGroup) ? implicitDefault() : undefined;
  }

  async function get(name: string): Promise<ResourceGroupRecord> {
    const group = await find(name);
    if (!group)
      throw new NotFound(
        'ResourceGroupNotFound',
        `Resource group '${name.slice(0, 90)}' could not be found.`,
      );
    return group;
  }

  return {
    find,
    get,

    async list(): Promise<ResourceGroupRecord[]> {
      const groups = await load();
      const all = Object.values(groups);
      if (!groups[key(deps.defaultGroup)]) all.unshift(implicitDefault());
      return all;
    },

    /** Create or update (location fixed once made); `created` says which, for 201 or 200. */
    async put(
      name: string,
      input: { location: string; tags: Record<string, string> },
    ): Promise<{ group: ResourceGroupRecord; created: boolean }> {
      validateResourceGroupName(name);
      return deps.store.transaction(async (tx) => {
        const groups = await load(tx);
        const existing =
          groups[key(name)] ?? (key(name) === key(deps.defaultGroup) ? implicitDefault() : undefined);
        if (existing && existing.location !== input.location) {
          throw new BadParameter(
            `Resource group '${existing.name}' is in location '${existing.location}'; a group's location cannot change.`,
            'InvalidResourceGroupLocation',
          );
        }
        if (!existing && Object.keys(groups).length >= MAX_RESOURCE_GROUPS) {
          throw new Conflict(
            `A subscription holds at most ${MAX_RESOURCE_GROUPS} resource groups.`,
            'ResourceGroupQuotaExceeded',
          );
        }
        const group: ResourceGroupRecord = existing
          ? { ...existing, tags: input.tags }
          : {
              name,
              location: input.location,
              tags: input.tags,
              createdAt: new Date(deps.clock.nowMs()).toISOString(),
            };
        await writeJson(tx, RECORD, { ...groups, [key(name)]: group });
        return { group, created: existing === undefined };
      });
    },

    /**
     * Unlike Azure, deleting a group never deletes vaults: a group that still holds one is a 409
     * naming it (Terraform's default, prevent_deletion_if_contains_resources, does the same).
     */
    async remove(name: string, vaultsIn: (group: string) => Promise<string[]>): Promise<boolean> {
      if (key(name) === key(deps.defaultGroup)) {
        throw new Conflict(
          `The resource group '${deps.defaultGroup}' holds the vaults made outside Resource Manager and cannot be deleted (setting defaultResourceGroup).`,
          'ResourceGroupNotDeletable',
        );
      }
      const held = await vaultsIn(name);
      if (held.length > 0) {
        throw new Conflict(
          `Resource group '${name.slice(0, 90)}' still holds vault(s) ${held.slice(0, 5).join(', ')}: Coffer never deletes vaults with their group. Delete them first.`,
          'ResourceGroupNotEmpty',
        );
      }
      return deps.store.transaction(async (tx) => {
        const groups = await load(tx);
        if (!groups[key(name)]) return false;
        const rest = Object.fromEntries(Object.entries(groups).filter(([stored]) => stored !== key(name)));
        await writeJson(tx, RECORD, rest);
        return true;
      });
    },
  };
}

export type ResourceGroups = ReturnType<typeof createResourceGroups>;
