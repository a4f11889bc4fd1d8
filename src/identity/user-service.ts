import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { isUuid, newUuid } from '../lib/ids.js';
import type { PasswordChecks } from './password-checks.js';
import { checkPasswordPolicy, hashPassword } from './password-hash.js';
import type { UserRecord } from './types.js';
import type { UserStore } from './user-store.js';

// Entra's userPrincipalName: name@domain, no spaces.
const UPN_PATTERN = /^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
const DISPLAY_NAME_PATTERN = /^[^\p{Cc}]{1,120}$/u;

export interface NewUser {
  userPrincipalName: string;
  displayName?: string;
  password: string;
  administrator?: boolean;
  enabled?: boolean;
}

export interface UserChanges {
  displayName?: string;
  password?: string;
  enabled?: boolean;
  administrator?: boolean;
}

/** Users: people who sign in with a password (token endpoint, `grant_type=password`). */
export function createUserService(deps: {
  store: UserStore;
  clock: Clock;
  changed: (objectId: string) => void;
  /** Bounded, equal-time password checks (password-checks.ts). */
  passwords: PasswordChecks;
}) {
  const { store } = deps;
  const now = () => new Date(deps.clock.nowMs()).toISOString();

  async function find(id: string): Promise<UserRecord> {
    const record = isUuid(id) ? await store.get(id.toLowerCase()) : await store.getByUpn(id);
    if (!record)
      throw new NotFound(
        'UserNotFound',
        `No user has the object id or user principal name '${id.slice(0, 200)}'.`,
      );
    return record;
  }

  async function save(record: UserRecord): Promise<UserRecord> {
    await store.save(record);
    deps.changed(record.objectId);
    return record;
  }

  return {
    find,
    list: () => store.list(),

    async create(input: NewUser): Promise<UserRecord> {
      const upn = input.userPrincipalName;
      if (typeof upn !== 'string' || !UPN_PATTERN.test(upn) || upn.length > 200) {
        throw new BadParameter(
          "userPrincipalName must look like name@domain (letters, digits and . _ % + - ').",
        );
      }
      const createdAt = now();
      const record: UserRecord = {
        objectId: newUuid(),
        userPrincipalName: upn,
        displayName: checkDisplayName(input.displayName ?? upn.split('@')[0]!),
        administrator: input.administrator === true,
        enabled: input.enabled !== false,
        createdAt,
        password: await hashPassword(checkPasswordPolicy(input.password), createdAt),
      };
      if (!(await store.create(record))) {
        throw new Conflict(
          `A user with the user principal name '${upn}' already exists.`,
          'UserAlreadyExists',
        );
      }
      return record;
    },

    async update(id: string, changes: UserChanges): Promise<UserRecord> {
      const record = { ...(await find(id)) };
      if (changes.displayName !== undefined) record.displayName = checkDisplayName(changes.displayName);
      if (changes.enabled !== undefined) record.enabled = changes.enabled;
      if (changes.administrator !== undefined) record.administrator = changes.administrator;
      if (changes.password !== undefined) {
        // A new password id: tokens issued with the old password stop being accepted.
        record.password = await hashPassword(checkPasswordPolicy(changes.password), now());
      }
      return save(record);
    },

    async remove(id: string): Promise<UserRecord> {
      const record = await find(id);
      await store.remove(record);
      deps.changed(record.objectId);
      return record;
    },

    /**
     * The user a password sign-in names, or undefined for an unknown user, a wrong password or
     * a disabled user. Unknown names take as long as known ones, without the hashing work.
     */
    async verifyPassword(upn: string, password: string): Promise<UserRecord | undefined> {
      const record = UPN_PATTERN.test(upn) ? await store.getByUpn(upn) : undefined;
      const matched = await deps.passwords.verify(password, record?.password);
      return matched && record?.enabled ? record : undefined;
    },
  };
}

function checkDisplayName(name: unknown): string {
  if (typeof name !== 'string' || !DISPLAY_NAME_PATTERN.test(name)) {
    throw new BadParameter('displayName must be 1-120 printable characters.');
  }
  return name;
}

export type UserService = ReturnType<typeof createUserService>;
