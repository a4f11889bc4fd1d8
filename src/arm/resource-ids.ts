import { BadParameter } from '../errors/index.js';
import { checkNoControlCharacters } from '../objects/validation.js';

/** Resource Manager's identifiers and the rules for names, locations and tags (Azure's limits). */

export const VAULT_TYPE = 'Microsoft.KeyVault/vaults';
export const DELETED_VAULT_TYPE = 'Microsoft.KeyVault/deletedVaults';

export const subscriptionPath = (subscriptionId: string) => `/subscriptions/${subscriptionId}`;

export const resourceGroupId = (subscriptionId: string, group: string) =>
  `${subscriptionPath(subscriptionId)}/resourceGroups/${group}`;

export const vaultResourceId = (subscriptionId: string, group: string, vault: string) =>
  `${resourceGroupId(subscriptionId, group)}/providers/${VAULT_TYPE}/${vault}`;

/** Deleted vaults belong to the subscription at a location: their group is gone from their id. */
export const locationPath = (subscriptionId: string, location: string) =>
  `${subscriptionPath(subscriptionId)}/providers/Microsoft.KeyVault/locations/${location}`;

export const deletedVaultResourceId = (subscriptionId: string, location: string, vault: string) =>
  `${locationPath(subscriptionId, location)}/deletedVaults/${vault}`;

/** Letters, digits, `_ ( ) . -`, up to 90, not ending with a period (ASCII only here). */
const RESOURCE_GROUP_NAME = /^[-\w.()]{0,89}[-\w()]$/;

export function validateResourceGroupName(name: string): string {
  if (!RESOURCE_GROUP_NAME.test(name)) {
    throw new BadParameter(
      `The resource group name '${name.slice(0, 100)}' is not valid: use 1-90 letters, digits, underscores, parentheses, hyphens and periods, not ending with a period.`,
      'InvalidResourceGroup',
    );
  }
  return name;
}

/** ARM compares locations without case or spaces: `West Europe` is `westeurope`. */
export function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}

/** One installation is one location (the `region` setting); anything else is Azure's 400. */
export function checkLocation(location: string, available: string, resourceType: string): string {
  const normalized = normalizeLocation(location);
  if (normalized !== available) {
    throw new BadParameter(
      `The provided location '${location.slice(0, 64)}' is not available for resource type '${resourceType}'. List of available regions for the resource type is '${available}' (the server's region setting).`,
      'LocationNotAvailableForResourceType',
    );
  }
  return normalized;
}

const MAX_TAGS = 50;
const TAG_NAME_FORBIDDEN = /[<>%&\\?/]/;

/** Azure's tag rules for resources: at most 50, names of 1-512 characters without `<>%&\?/`, values up to 256. */
export function validateTags(tags: Record<string, string> | undefined): Record<string, string> {
  if (tags === undefined) return {};
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS)
    throw new BadParameter(`A resource holds at most ${MAX_TAGS} tags.`, 'InvalidTag');
  for (const [name, value] of entries) {
    checkNoControlCharacters(name, 'A tag name');
    checkNoControlCharacters(value, 'A tag value');
    if (name.length === 0 || name.length > 512 || TAG_NAME_FORBIDDEN.test(name)) {
      throw new BadParameter(
        `The tag name '${name.slice(0, 60)}' is not valid: 1-512 characters, none of < > % & \\ ? /.`,
        'InvalidTagNameCharacters',
      );
    }
    if (value.length > 256) {
      throw new BadParameter(
        `The value of tag '${name.slice(0, 60)}' is longer than 256 characters.`,
        'InvalidTag',
      );
    }
  }
  return Object.fromEntries(entries);
}
