import { randomBytes } from 'node:crypto';
import { hashSecret, verifySecret } from '../crypto/secret-hash.js';
import { BadParameter, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { isUuid, newUuid } from '../lib/ids.js';
import type { PrincipalStore } from './principal-store.js';
import type { AuthenticatedPrincipal, IssuedCredentials, PrincipalRecord } from './types.js';

/**
 * How long a node may keep using a cached principal. Disabling or deleting a principal takes
 * effect at once on the node that did it, and on other nodes within this bound.
 */
export const PRINCIPAL_CACHE_MS = 30_000;

const NAME_PATTERN = /^[\w .@-]{1,120}$/;

export function createPrincipalService(deps: {
  store: PrincipalStore;
  clock: Clock;
  tenantId: () => string;
}) {
  const { store, clock } = deps;
  const cache = new Map<string, { record: PrincipalRecord | undefined; loadedAt: number }>();

  const now = () => new Date(clock.nowMs()).toISOString();

  function newSecret(record: PrincipalRecord): { secret: string; record: PrincipalRecord } {
    // 30 random bytes: 240 bits, URL-safe, no padding, easy to paste.
    const secret = randomBytes(30).toString('base64url');
    const entry = { id: newUuid(), createdAt: now(), ...hashSecret(secret) };
    return { secret, record: { ...record, secrets: [entry] } };
  }

  function credentials(record: PrincipalRecord, secret: string): IssuedCredentials {
    return {
      objectId: record.objectId,
      clientId: record.clientId,
      clientSecret: secret,
      tenantId: deps.tenantId(),
      name: record.name,
    };
  }

  async function find(id: string): Promise<PrincipalRecord> {
    const record = isUuid(id)
      ? ((await store.get(id.toLowerCase())) ?? (await store.getByClientId(id)))
      : undefined;
    if (!record)
      throw new NotFound('PrincipalNotFound', `No service principal has the object id or client id '${id}'.`);
    return record;
  }

  async function save(record: PrincipalRecord): Promise<void> {
    await store.save(record);
    cache.delete(record.objectId);
  }

  return {
    async create(options: { name: string; administrator?: boolean }): Promise<IssuedCredentials> {
      if (typeof options.name !== 'string' || !NAME_PATTERN.test(options.name)) {
        throw new BadParameter('name must be 1-120 letters, digits, spaces or . _ @ - characters.');
      }
      const base: PrincipalRecord = {
        objectId: newUuid(),
        clientId: newUuid(),
        name: options.name,
        administrator: options.administrator === true,
        enabled: true,
        createdAt: now(),
        secrets: [],
      };
      const { secret, record } = newSecret(base);
      await save(record);
      return credentials(record, secret);
    },

    list: () => store.list(),
    find,

    async remove(id: string): Promise<void> {
      const record = await find(id);
      await store.remove(record);
      cache.delete(record.objectId);
    },

    /** Replaces every secret with a new one: the old ones stop working at once. */
    async resetSecret(id: string): Promise<IssuedCredentials> {
      const { secret, record } = newSecret(await find(id));
      await save(record);
      return credentials(record, secret);
    },

    /** Checks a client secret; undefined for an unknown client, a wrong secret or a disabled principal. */
    async verifyClientSecret(clientId: string, secret: string): Promise<PrincipalRecord | undefined> {
      const record = isUuid(clientId) ? await store.getByClientId(clientId) : undefined;
      if (!record?.enabled) return undefined;
      // Check every stored secret, so the time taken does not tell which one matched.
      let matched = false;
      for (const stored of record.secrets) matched = verifySecret(secret, stored) || matched;
      return matched ? record : undefined;
    },

    /** The principal behind a token, from a short-lived cache; undefined once deleted or disabled. */
    async current(objectId: string): Promise<AuthenticatedPrincipal | undefined> {
      let entry = cache.get(objectId);
      if (!entry || clock.nowMs() - entry.loadedAt > PRINCIPAL_CACHE_MS) {
        entry = { record: await store.get(objectId), loadedAt: clock.nowMs() };
        cache.set(objectId, entry);
      }
      const record = entry.record;
      if (!record?.enabled) return undefined;
      return {
        objectId: record.objectId,
        kind: 'ServicePrincipal',
        clientId: record.clientId,
        administrator: record.administrator,
        groups: [],
      };
    },

    clearCache: () => cache.clear(),
  };
}

export type PrincipalService = ReturnType<typeof createPrincipalService>;
