import type { AuthenticatedPrincipal } from '../identity/types.js';
import { BadParameter } from '../errors/index.js';
import { CertificateActions, type DataAction, KeyActions, SecretActions } from './actions.js';

/**
 * Azure's legacy authorization model, used by vaults whose `enableRbacAuthorization` is false:
 * per principal (or group), flat permission lists at vault level. Names are Azure's, so an
 * access policy exported from Azure means the same thing here.
 */
export interface AccessPolicy {
  objectId: string;
  permissions: { keys: string[]; secrets: string[]; certificates: string[] };
}

export type PermissionKind = keyof AccessPolicy['permissions'];

/** Azure's permission names, in Azure's spelling (keyvault.json, `Permissions`). */
export const PERMISSION_NAMES: Readonly<Record<PermissionKind, readonly string[]>> = {
  secrets: ['get', 'list', 'set', 'delete', 'backup', 'restore', 'recover', 'purge', 'all'],
  keys: [
    'get',
    'list',
    'update',
    'create',
    'import',
    'delete',
    'recover',
    'backup',
    'restore',
    'decrypt',
    'encrypt',
    'unwrapKey',
    'wrapKey',
    'verify',
    'sign',
    'purge',
    'release',
    'rotate',
    'getrotationpolicy',
    'setrotationpolicy',
    'all',
  ],
  certificates: [
    'get',
    'list',
    'delete',
    'create',
    'import',
    'update',
    'managecontacts',
    'getissuers',
    'listissuers',
    'setissuers',
    'deleteissuers',
    'manageissuers',
    'recover',
    'purge',
    'backup',
    'restore',
    'all',
  ],
};

/** The permission an action needs; `alternatives` also grant it (Azure's manageissuers covers the issuer ones). */
type Grant = { kind: PermissionKind; permission: string; alternatives?: string[] };

const secret = (permission: string): Grant => ({ kind: 'secrets', permission });
const key = (permission: string): Grant => ({ kind: 'keys', permission });
const certificate = (permission: string, alternatives?: string[]): Grant => ({
  kind: 'certificates',
  permission,
  alternatives,
});

/**
 * What each data action needs under access policies, as Azure documents it per operation
 * (the REST reference's "requires the secrets/get permission"). Updating a secret's attributes
 * needs `set`; the read actions are refined by `listing` below.
 */
const GRANTS: ReadonlyMap<string, Grant> = new Map([
  [SecretActions.get, secret('get')],
  [SecretActions.readMetadata, secret('list')],
  [SecretActions.set, secret('set')],
  [SecretActions.update, secret('set')],
  [SecretActions.delete, secret('delete')],
  [SecretActions.backup, secret('backup')],
  [SecretActions.restore, secret('restore')],
  [SecretActions.recover, secret('recover')],
  [SecretActions.purge, secret('purge')],
  [KeyActions.read, key('get')],
  [KeyActions.create, key('create')],
  [KeyActions.import, key('import')],
  [KeyActions.update, key('update')],
  [KeyActions.delete, key('delete')],
  [KeyActions.backup, key('backup')],
  [KeyActions.restore, key('restore')],
  [KeyActions.recover, key('recover')],
  [KeyActions.purge, key('purge')],
  [KeyActions.encrypt, key('encrypt')],
  [KeyActions.decrypt, key('decrypt')],
  [KeyActions.wrap, key('wrapKey')],
  [KeyActions.unwrap, key('unwrapKey')],
  [KeyActions.sign, key('sign')],
  [KeyActions.verify, key('verify')],
  [KeyActions.rotate, key('rotate')],
  [KeyActions.readRotationPolicy, key('getrotationpolicy')],
  [KeyActions.writeRotationPolicy, key('setrotationpolicy')],
  // KeyActions.random (rng) has no access-policy permission in Azure: refused, as unknown actions are.
  [CertificateActions.read, certificate('get')],
  [CertificateActions.create, certificate('create')],
  [CertificateActions.import, certificate('import')],
  [CertificateActions.update, certificate('update')],
  [CertificateActions.delete, certificate('delete')],
  [CertificateActions.backup, certificate('backup')],
  [CertificateActions.restore, certificate('restore')],
  [CertificateActions.recover, certificate('recover')],
  [CertificateActions.purge, certificate('purge')],
  [CertificateActions.manageContacts, certificate('managecontacts')],
  [CertificateActions.readIssuers, certificate('getissuers', ['manageissuers'])],
  [CertificateActions.writeIssuers, certificate('setissuers', ['manageissuers'])],
  [CertificateActions.deleteIssuers, certificate('deleteissuers', ['manageissuers'])],
]);

/** The two read actions cover both single-object reads and listings in RBAC; access policies split them. */
const READ_ACTIONS: ReadonlySet<string> = new Set([
  SecretActions.readMetadata,
  KeyActions.read,
  CertificateActions.read,
  CertificateActions.readIssuers,
]);

/** The permission an action needs; `listing` (from the route) says whether a read lists objects. */
export function requiredPermission(action: DataAction, listing?: boolean): Grant | undefined {
  const grant = GRANTS.get(action);
  if (!grant || listing === undefined || !READ_ACTIONS.has(action)) return grant;
  if (action === CertificateActions.readIssuers) {
    return { ...grant, permission: listing ? 'listissuers' : 'getissuers' };
  }
  return { kind: grant.kind, permission: listing ? 'list' : 'get' };
}

/**
 * Whether the principal's own policy or one of its groups' policies grants the action. Pure:
 * the caller hands over the vault's policies. `listing` refines the read actions: listing
 * objects, versions or deleted objects needs `list`; reading one (deleted) object needs `get`.
 * Without it, readMetadata means `list` and keys/read means `get`, their usual operations.
 */
export function accessPolicyAllows(
  policies: AccessPolicy[] | undefined,
  principal: AuthenticatedPrincipal,
  action: DataAction,
  listing?: boolean,
): boolean {
  return matchingAccessPolicy(policies, principal, action, listing) !== undefined;
}

/** The first policy (the principal's own or one of its groups') that grants the action, if any. */
export function matchingAccessPolicy(
  policies: AccessPolicy[] | undefined,
  principal: AuthenticatedPrincipal,
  action: DataAction,
  listing?: boolean,
): AccessPolicy | undefined {
  const grant = requiredPermission(action, listing);
  if (!grant || !policies) return undefined;
  const identities = new Set([principal.objectId, ...principal.groups]);
  return policies.find((policy) => {
    if (!identities.has(policy.objectId)) return false;
    const granted = policy.permissions[grant.kind];
    const accepted = [grant.permission, ...(grant.alternatives ?? []), 'all'];
    return accepted.some((permission) => granted.includes(permission));
  });
}

/**
 * A permission list as stored: Azure's spelling (names are matched case-insensitively, as Azure
 * does), no duplicates, in the order given. An unknown name is a 400 that lists the valid ones.
 */
export function canonicalPermissions(kind: PermissionKind, names: readonly unknown[]): string[] {
  const known = PERMISSION_NAMES[kind];
  const result: string[] = [];
  for (const name of names) {
    const canonical = known.find((candidate) => candidate.toLowerCase() === String(name).toLowerCase());
    if (canonical === undefined) {
      throw new BadParameter(
        `'${String(name).slice(0, 40)}' is not a ${kind} permission. Use: ${known.join(', ')}.`,
      );
    }
    if (!result.includes(canonical)) result.push(canonical);
  }
  return result;
}
