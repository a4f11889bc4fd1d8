import { BadParameter, NotFound } from '../errors/index.js';
import { type AccessPolicy, canonicalPermissions, type PermissionKind } from '../policy/access-policies.js';
import { type NetworkAcls, parseIpRule } from '../policy/network-rules.js';

/** Azure's limit on access policies per vault. */
export const MAX_ACCESS_POLICIES = 1024;
/** A generous bound so one vault record stays small; Azure allows 400 IP rules per vault. */
export const MAX_IP_RULES = 400;

const KINDS: readonly PermissionKind[] = ['keys', 'secrets', 'certificates'];

export type PolicyUpdateKind = 'add' | 'replace' | 'remove';

/** An access policy as a client sends it: any permission list may be left out. */
export interface AccessPolicyInput {
  objectId: string;
  permissions?: Partial<Record<PermissionKind, string[]>>;
}

function normalize(input: AccessPolicyInput): AccessPolicy {
  const objectId = String(input.objectId ?? '').trim();
  if (objectId === '') throw new BadParameter('Every access policy needs an objectId.');
  const permissions = {} as AccessPolicy['permissions'];
  for (const kind of KINDS) permissions[kind] = canonicalPermissions(kind, input.permissions?.[kind] ?? []);
  return { objectId: objectId.toLowerCase(), permissions };
}

function merge(kind: PolicyUpdateKind, current: AccessPolicy | undefined, given: AccessPolicy): AccessPolicy {
  if (kind === 'replace' || !current) return given;
  const permissions = {} as AccessPolicy['permissions'];
  for (const key of KINDS) {
    permissions[key] =
      kind === 'add'
        ? [...new Set([...current.permissions[key], ...given.permissions[key]])]
        : current.permissions[key].filter((name) => !given.permissions[key].includes(name));
  }
  return { objectId: current.objectId, permissions };
}

const isEmpty = (policy: AccessPolicy) => KINDS.every((kind) => policy.permissions[kind].length === 0);

/**
 * Azure's `accessPolicies/{add|replace|remove}`: add merges permissions into the principal's
 * policy (or creates it), replace sets them, remove takes the given permissions away. A policy
 * left with no permission, or a remove that names none, drops the principal's policy entirely.
 */
export function applyPolicyUpdate(
  current: readonly AccessPolicy[],
  kind: PolicyUpdateKind,
  inputs: readonly AccessPolicyInput[],
): AccessPolicy[] {
  const policies = [...current];
  for (const given of inputs.map(normalize)) {
    const index = policies.findIndex((policy) => policy.objectId === given.objectId);
    if (kind === 'remove' && index < 0) {
      throw new NotFound('AccessPolicyNotFound', `The vault has no access policy for '${given.objectId}'.`);
    }
    const updated = kind === 'remove' && isEmpty(given) ? given : merge(kind, policies[index], given);
    const drop = isEmpty(updated);
    if (index < 0) policies.push(updated);
    else if (drop) policies.splice(index, 1);
    else policies[index] = updated;
  }
  if (policies.length > MAX_ACCESS_POLICIES) {
    throw new BadParameter(`A vault holds at most ${MAX_ACCESS_POLICIES} access policies.`);
  }
  return policies;
}

/**
 * A whole access policy list, as Resource Manager's PUT and PATCH send it: it replaces the
 * vault's list. Each principal may appear once (Azure's rule); an entry without permissions stays.
 */
export function accessPolicyList(inputs: readonly AccessPolicyInput[]): AccessPolicy[] {
  const policies = inputs.map(normalize);
  if (new Set(policies.map((policy) => policy.objectId)).size !== policies.length) {
    throw new BadParameter('Each objectId may appear in one access policy only: merge the duplicates.');
  }
  if (policies.length > MAX_ACCESS_POLICIES) {
    throw new BadParameter(`A vault holds at most ${MAX_ACCESS_POLICIES} access policies.`);
  }
  return policies;
}

/** One principal's permissions before and after a policy update; null where it had or has no policy. */
export interface PolicyChange {
  objectId: string;
  before: AccessPolicy['permissions'] | null;
  after: AccessPolicy['permissions'] | null;
}

/** What an update changed, principal by principal, for the audit trail. */
export function policyChanges(
  before: readonly AccessPolicy[],
  after: readonly AccessPolicy[],
): PolicyChange[] {
  const find = (list: readonly AccessPolicy[], id: string) =>
    list.find((policy) => policy.objectId === id)?.permissions ?? null;
  const ids = [...new Set([...before, ...after].map((policy) => policy.objectId))];
  return ids
    .map((objectId) => ({ objectId, before: find(before, objectId), after: find(after, objectId) }))
    .filter((change) => JSON.stringify(change.before) !== JSON.stringify(change.after));
}

/** The wire's `networkAcls` (`ipRules: [{value}]`) as a patch over the current rules. */
export interface NetworkAclsInput {
  defaultAction?: string;
  ipRules?: { value: string }[];
}

function checkedRules(rules: readonly string[]): string[] {
  const unique = [...new Set(rules.map(parseIpRule))];
  if (unique.length > MAX_IP_RULES) throw new BadParameter(`A vault holds at most ${MAX_IP_RULES} IP rules.`);
  return unique;
}

/** Fields given replace the current ones; a vault without rules starts from Azure's default, Allow. */
export function patchNetworkAcls(current: NetworkAcls | undefined, input: NetworkAclsInput): NetworkAcls {
  const base = current ?? { defaultAction: 'Allow', ipRules: [] };
  const action = input.defaultAction ?? base.defaultAction;
  if (action !== 'Allow' && action !== 'Deny') {
    throw new BadParameter(
      `networkAcls.defaultAction must be Allow or Deny, not '${String(action).slice(0, 20)}'.`,
    );
  }
  const ipRules = input.ipRules ? checkedRules(input.ipRules.map((rule) => rule.value)) : base.ipRules;
  return { defaultAction: action, ipRules };
}

/** Adds or removes one IP rule; removing a rule that is not there is a 404 that says so. */
export function editIpRule(
  current: NetworkAcls | undefined,
  edit: 'add' | 'remove',
  rule: string,
): NetworkAcls {
  const acls = patchNetworkAcls(current, {});
  const normalized = parseIpRule(rule);
  if (edit === 'add') return { ...acls, ipRules: checkedRules([...acls.ipRules, normalized]) };
  if (!acls.ipRules.includes(normalized)) {
    throw new NotFound('NetworkRuleNotFound', `The vault has no IP rule '${normalized}'.`);
  }
  return { ...acls, ipRules: acls.ipRules.filter((existing) => existing !== normalized) };
}
