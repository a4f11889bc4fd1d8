import { randomBytes } from 'node:crypto';
import { hashSecret, verifySecret } from '../crypto/secret-hash.js';
import { BadParameter, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { isUuid, newUuid } from '../lib/ids.js';
import type { PrincipalStore } from './principal-store.js';
import type { IssuedCredentials, PrincipalRecord } from './types.js';

/**
 * How long a node may keep using a cached principal (its enabled flag, credentials and group
 * memberships). Disabling or deleting a principal, removing a credential or changing a group
 * takes effect at once on the node that did it, and on other nodes within this bound, even for
 * tokens issued before.
 */
export const PRINCIPAL_CACHE_MS = 30_000;

const NAME_PATTERN = /^[\w .@-]{1,120}$/;

export function createPrincipalService(deps: {
  store: PrincipalStore;
  clock: Clock;
  tenantId: () => string;
  /** Drops what the directory cached about this principal (enabled, credentials, groups). */
  changed: (objectId: string) => void;
}) {
  const { store, clock } = deps;

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

  async function save(record: PrincipalRecord): Promise<PrincipalRecord> {
    await store.save(record);
    deps.changed(record.objectId);
    return record;
  }

  /**
   * Checks a client secret; undefined for an unknown client, a wrong secret or a disabled
   * principal. `credentialId` is the matching secret's id, which tokens carry.
   */
  async function authenticateSecret(
    clientId: string,
    secret: string,
  ): Promise<{ record: PrincipalRecord; credentialId: string } | undefined> {
    const record = isUuid(clientId) ? await store.getByClientId(clientId) : undefined;
    if (!record?.enabled) return undefined;
    // Check every stored secret, so the time taken does not tell which one matched.
    let matched: string | undefined;
    for (const stored of record.secrets) if (verifySecret(secret, stored)) matched ??= stored.id;
    return matched === undefined ? undefined : { record, credentialId: matched };
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
    save,

    async remove(id: string): Promise<PrincipalRecord> {
      const record = await find(id);
      await store.remove(record);
      deps.changed(record.objectId);
      return record;
    },

    /** Enables or disables a principal: a disabled one gets no new token and its tokens stop working. */
    async update(id: string, changes: { enabled?: boolean }): Promise<PrincipalRecord> {
      const record = await find(id);
      return changes.enabled === undefined ? record : save({ ...record, enabled: changes.enabled });
    },

    /** Replaces every secret with a new one: the old ones stop working at once. */
    async resetSecret(id: string): Promise<IssuedCredentials> {
      const { secret, record } = newSecret(await find(id));
      await save(record);
      return credentials(record, secret);
    },

    authenticateSecret,

    async verifyClientSecret(clientId: string, secret: string): Promise<PrincipalRecord | undefined> {
      return (await authenticateSecret(clientId, secret))?.record;
    },

    /** The enabled principal with this client id, for client assertions; undefined otherwise. */
    async enabledByClientId(clientId: string): Promise<PrincipalRecord | undefined> {
      const record = isUuid(clientId) ? await store.getByClientId(clientId) : undefined;
      return record?.enabled ? record : undefined;
    },

    getByObjectId: (objectId: string) => store.get(objectId),
  };
}

export type PrincipalService = ReturnType<typeof createPrincipalService>;
