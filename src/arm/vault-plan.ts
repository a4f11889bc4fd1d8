import { BadParameter } from '../errors/index.js';
import type { AdminTarget } from '../http/admin-plane.js';
import type { AccessPolicy } from '../policy/access-policies.js';
import { dataAccessChange } from '../policy/data-access-change.js';
import { accessPolicyList } from '../vaults/access-control.js';
import type { VaultSettings } from '../vaults/service.js';
import type { VaultRecord, VaultResource } from '../vaults/types.js';
import { rbacByDefault } from './api-versions.js';
import { checkLocation, VAULT_TYPE, validateTags } from './resource-ids.js';
import {
  accessPoliciesInput,
  checkSupported,
  networkInput,
  resourceOf,
  type WireVaultBody,
  type WireVaultProperties,
} from './vault-wire.js';

/**
 * What a Resource Manager write will do to a vault, decided before authorization so that the
 * authorization can follow it. Who may read data changes only through `enableRbacAuthorization`
 * and `accessPolicies`: they go into `settings` only when they differ from the vault as it was
 * seen here, and then `changesDataAccess` makes the caller need the right to grant access
 * (policy/data-access-change.ts), exactly as the admin API does. An unchanged value is left out,
 * never written back: a PUT of what a client read a moment ago cannot undo a concurrent change.
 */
export interface VaultWritePlan {
  create: boolean;
  /**
   * `createMode: recover` with no live vault of that name: the deleted vault comes back as it
   * was deleted, and the rest of the body is not applied (as in Azure, which takes
   * `createMode` alone); a later PUT or PATCH changes it.
   */
  recover?: boolean;
  settings: VaultSettings;
  changesDataAccess: boolean;
}

export interface PlanContext {
  apiVersion: string;
  tenantId: string;
  location: string;
  defaultGroup: string;
}

/** `PUT .../vaults/{name}` (create or update): `current` is the vault as it is now, if it exists. */
export function planPut(
  body: WireVaultBody,
  group: string,
  current: VaultRecord | undefined,
  context: PlanContext,
): VaultWritePlan {
  const properties = body.properties ?? {};
  checkSupported(properties, context.tenantId);
  const location = checkLocation(body.location ?? '', context.location, VAULT_TYPE);
  if (!current && properties.createMode === 'recover') {
    return { create: false, recover: true, settings: {}, changesDataAccess: false };
  }
  if (!current) return planCreate(body, properties, { resourceGroup: group, location }, context);
  checkSku(properties, current);
  const plan = planChanges(properties, current, context);
  plan.settings.resource = {
    ...resourceOf(current, context),
    tags: validateTags(body.tags),
    ...(properties.networkAcls?.bypass && { networkBypass: properties.networkAcls.bypass }),
  };
  return plan;
}

/** `PATCH .../vaults/{name}`: only what the body names changes. */
export function planPatch(body: WireVaultBody, current: VaultRecord, context: PlanContext): VaultWritePlan {
  const properties = body.properties ?? {};
  checkSupported(properties, context.tenantId);
  checkSku(properties, current);
  const plan = planChanges(properties, current, context);
  const bypass = properties.networkAcls?.bypass;
  if (body.tags !== undefined || bypass !== undefined) {
    const resource = resourceOf(current, context);
    plan.settings.resource = {
      ...resource,
      tags: body.tags === undefined ? resource.tags : validateTags(body.tags),
      ...(bypass && { networkBypass: bypass }),
    };
  }
  return plan;
}

function planCreate(
  body: WireVaultBody,
  properties: WireVaultProperties,
  place: Pick<VaultResource, 'resourceGroup' | 'location'>,
  context: PlanContext,
): VaultWritePlan {
  const network = properties.networkAcls && networkInput(properties.networkAcls);
  const policies =
    properties.accessPolicies && accessPoliciesInput(properties.accessPolicies, context.tenantId);
  const settings: VaultSettings = {
    softDeleteRetentionInDays: properties.softDeleteRetentionInDays ?? 90,
    enablePurgeProtection: properties.enablePurgeProtection ?? false,
    enableRbacAuthorization: properties.enableRbacAuthorization ?? rbacByDefault(context.apiVersion),
    sku: properties.sku?.name ?? 'standard',
    resource: {
      ...place,
      tags: validateTags(body.tags),
      ...(network?.bypass && { networkBypass: network.bypass }),
    },
    ...(network && { networkAcls: network.networkAcls }),
    ...(policies && { accessPolicies: policies }),
  };
  // A new vault with policies hands someone its data from the start; without, it hands nothing.
  return { create: true, settings, changesDataAccess: (policies?.length ?? 0) > 0 };
}

function planChanges(
  properties: WireVaultProperties,
  current: VaultRecord,
  context: PlanContext,
): VaultWritePlan {
  const settings: VaultSettings = {};
  if (properties.softDeleteRetentionInDays !== undefined)
    settings.softDeleteRetentionInDays = properties.softDeleteRetentionInDays;
  if (properties.enablePurgeProtection !== undefined)
    settings.enablePurgeProtection = properties.enablePurgeProtection;
  if (properties.networkAcls) settings.networkAcls = networkInput(properties.networkAcls).networkAcls;
  let changesDataAccess = false;
  const model = properties.enableRbacAuthorization;
  if (model !== undefined && model !== current.enableRbacAuthorization) {
    settings.enableRbacAuthorization = model;
    changesDataAccess = true;
  }
  if (properties.accessPolicies) {
    const wanted = accessPoliciesInput(properties.accessPolicies, context.tenantId);
    if (!samePolicies(accessPolicyList(wanted), current.accessPolicies ?? [])) {
      settings.accessPolicies = wanted;
      changesDataAccess = true;
    }
  }
  return { create: false, settings, changesDataAccess };
}

/** The same grants, whatever the order of principals and permissions. */
function samePolicies(left: readonly AccessPolicy[], right: readonly AccessPolicy[]): boolean {
  const canonical = (list: readonly AccessPolicy[]) =>
    JSON.stringify(
      [...list]
        .sort((a, b) => a.objectId.localeCompare(b.objectId))
        .map(({ objectId, permissions }) => [
          objectId,
          [...permissions.keys].sort(),
          [...permissions.secrets].sort(),
          [...permissions.certificates].sort(),
        ]),
    );
  return canonical(left) === canonical(right);
}

/** A vault's SKU is set when it is made: premium keeps -HSM keys elsewhere than standard does. */
function checkSku(properties: WireVaultProperties, current: VaultRecord): void {
  const wanted = properties.sku?.name;
  if (wanted !== undefined && wanted !== (current.sku ?? 'standard')) {
    // Not naming the current SKU: this runs before the caller is authorized to read the vault.
    throw new BadParameter(
      `Coffer cannot change a vault's SKU: create a new ${wanted} vault and move the objects with backup and restore.`,
    );
  }
}

/**
 * Who must allow the write: creating acts on the installation (`/`), updating on the vault; a
 * change of who reads data also needs the right to grant access at the vault. A write that only
 * changes data access needs only that right (as the admin API's PATCH).
 */
export function planTargets(plan: VaultWritePlan, vaultName: string): AdminTarget[] {
  const scope = `/vaults/${vaultName}`;
  const other = Object.keys(plan.settings).filter(
    (setting) => setting !== 'enableRbacAuthorization' && setting !== 'accessPolicies',
  );
  const targets: AdminTarget[] = [];
  // Recovering writes the vault back where its role assignments still are: vaults/write there.
  if (plan.recover) return [{ scope }];
  if (plan.create) targets.push({ scope: '/' });
  else if (other.length > 0 || !plan.changesDataAccess) targets.push({ scope });
  if (plan.changesDataAccess) targets.push(dataAccessChange(scope));
  return targets;
}
