import { createCacheEpoch } from '../lib/cache-epoch.js';
import type { Clock } from '../lib/clock.js';
import type { GroupService } from './group-service.js';
import { PRINCIPAL_CACHE_MS } from './principal-service.js';
import type { AuthenticatedPrincipal, PrincipalRecord, UserRecord } from './types.js';

const CACHE_LIMIT = 10_000;

/** A principal as a token's bearer, with the credentials whose tokens are still honoured. */
export interface ResolvedPrincipal {
  principal: AuthenticatedPrincipal;
  credentialIds: ReadonlySet<string>;
}

/**
 * Who an object id is right now: a service principal or a user, enabled, with its live
 * credentials and every group it belongs to (transitively). Cached for PRINCIPAL_CACHE_MS per
 * object id, so the hot path of a request is a map lookup; a change on this node drops the
 * entry at once.
 */
export function createDirectory(deps: {
  clock: Clock;
  principal: (objectId: string) => Promise<PrincipalRecord | undefined>;
  user: (objectId: string) => Promise<UserRecord | undefined>;
  groups: Pick<GroupService, 'groupsOf'>;
}) {
  const cache = new Map<string, { value: ResolvedPrincipal | undefined; loadedAt: number }>();
  const epoch = createCacheEpoch();

  async function load(objectId: string): Promise<ResolvedPrincipal | undefined> {
    const sp = await deps.principal(objectId);
    if (sp) {
      if (!sp.enabled) return undefined;
      const ids = [...sp.secrets, ...(sp.certificates ?? []), ...(sp.federatedCredentials ?? [])].map(
        (c) => c.id,
      );
      return {
        principal: {
          objectId: sp.objectId,
          kind: 'ServicePrincipal',
          clientId: sp.clientId,
          administrator: sp.administrator,
          groups: await deps.groups.groupsOf(sp.objectId),
        },
        credentialIds: new Set(ids),
      };
    }
    const user = await deps.user(objectId);
    if (!user?.enabled) return undefined;
    return {
      principal: {
        objectId: user.objectId,
        kind: 'User',
        userPrincipalName: user.userPrincipalName,
        administrator: user.administrator,
        groups: await deps.groups.groupsOf(user.objectId),
      },
      credentialIds: new Set([user.password.id]),
    };
  }

  async function resolve(objectId: string): Promise<ResolvedPrincipal | undefined> {
    const nowMs = deps.clock.nowMs();
    let entry = cache.get(objectId);
    if (!entry || nowMs - entry.loadedAt > PRINCIPAL_CACHE_MS) {
      const keep = epoch.begin();
      entry = { value: await load(objectId), loadedAt: nowMs };
      if (cache.size >= CACHE_LIMIT) cache.clear();
      if (keep()) cache.set(objectId, entry);
    }
    return entry.value;
  }

  return {
    resolve,
    /** The principal behind a token; undefined once deleted or disabled. */
    current: async (objectId: string) => (await resolve(objectId))?.principal,
    invalidate: (objectId: string) => {
      epoch.bump();
      cache.delete(objectId);
    },
    clearCache: () => {
      epoch.bump();
      cache.clear();
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;
