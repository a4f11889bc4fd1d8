import { BadParameter } from '../errors/index.js';

/**
 * Every Resource Manager api-version Coffer answers, per resource provider, with where each was
 * seen: a client that sends it by default, or the folder of azure-rest-api-specs that defines it
 * (paths under `specification/`). ARM clients pin an api-version at release and keep sending it
 * for years; the vault shapes Coffer serves are the same under all of them, except the default
 * permission model (rbacByDefault below).
 */
export interface ArmApiVersion {
  version: string;
  seenIn: string;
}

const KEY_VAULT_SPEC = 'keyvault/resource-manager/Microsoft.KeyVault';

/** Microsoft.KeyVault: vaults, checkNameAvailability, operation results. */
export const KEY_VAULT_API_VERSIONS: readonly ArmApiVersion[] = [
  { version: '2015-06-01', seenIn: `${KEY_VAULT_SPEC}/stable/2015-06-01` },
  {
    version: '2016-10-01',
    seenIn: 'az CLI hybrid profiles (MGMT_KEYVAULT); python3-azure azure-mgmt-keyvault 10.1.0 v2016_10_01',
  },
  { version: '2018-02-14', seenIn: 'python3-azure azure-mgmt-keyvault 10.1.0 v2018_02_14' },
  { version: '2019-09-01', seenIn: 'python3-azure azure-mgmt-keyvault 10.1.0 v2019_09_01' },
  { version: '2020-04-01-preview', seenIn: 'python3-azure azure-mgmt-keyvault 10.1.0 v2020_04_01_preview' },
  { version: '2021-04-01-preview', seenIn: 'az CLI profile latest (2022), MGMT_KEYVAULT default' },
  { version: '2021-06-01-preview', seenIn: "az CLI profile latest (2022), MGMT_KEYVAULT 'vaults'" },
  { version: '2021-10-01', seenIn: 'python3-azure azure-mgmt-keyvault 10.1.0 v2021_10_01' },
  {
    version: '2022-07-01',
    seenIn:
      "python3-azure azure-mgmt-keyvault 10.1.0 (default); az CLI profile latest, MGMT_KEYVAULT 'vaults'",
  },
  { version: '2022-11-01', seenIn: 'go-azure-sdk resource-manager/keyvault/2022-11-01' },
  { version: '2023-02-01', seenIn: 'go-azure-sdk resource-manager/keyvault/2023-02-01 (azurerm 3.x)' },
  {
    version: '2023-07-01',
    seenIn: 'terraform-provider-azurerm keyvault client (vaults20230701); packer-plugin-azure',
  },
  { version: '2024-11-01', seenIn: `${KEY_VAULT_SPEC}/KeyVault/stable/2024-11-01 (../shared)` },
  { version: '2025-05-01', seenIn: '@azure/arm-keyvault 5.0.0 KnownVersions; spec examples/2025-05-01' },
  { version: '2026-02-01', seenIn: '@azure/arm-keyvault 5.0.0 (default)' },
  { version: '2026-03-01-preview', seenIn: `${KEY_VAULT_SPEC}/KeyVault/examples/2026-03-01-preview` },
  { version: '2026-04-01-preview', seenIn: `${KEY_VAULT_SPEC}/KeyVault/examples/2026-04-01-preview` },
  { version: '2026-04-01', seenIn: `${KEY_VAULT_SPEC}/KeyVault/examples/2026-04-01` },
];

const PYTHON_RESOURCES = 'python3-azure azure-mgmt-resource 22.0.0';

/** Microsoft.Resources: subscriptions, tenants, resource groups, the generic resource list. */
export const RESOURCES_API_VERSIONS: readonly ArmApiVersion[] = [
  {
    version: '2015-11-01',
    seenIn:
      '@azure/arm-keyvault 5.0.0 vaults.list(); terraform-provider-azurerm keyvault cache (resources20151101)',
  },
  { version: '2016-02-01', seenIn: `az CLI 2017-03-09-profile; ${PYTHON_RESOURCES} resources` },
  { version: '2016-06-01', seenIn: `az CLI hybrid profiles; ${PYTHON_RESOURCES} subscriptions` },
  { version: '2016-09-01', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2017-05-10', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2018-02-01', seenIn: `az CLI 2018-03-01-hybrid; ${PYTHON_RESOURCES} resources` },
  { version: '2018-05-01', seenIn: `az CLI 2019-03-01-hybrid; ${PYTHON_RESOURCES} resources` },
  { version: '2018-06-01', seenIn: `${PYTHON_RESOURCES} subscriptions` },
  { version: '2019-03-01', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2019-05-01', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2019-05-10', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2019-06-01', seenIn: `${PYTHON_RESOURCES} subscriptions` },
  { version: '2019-07-01', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2019-08-01', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2019-10-01', seenIn: `az CLI 2020-09-01-hybrid; ${PYTHON_RESOURCES} resources` },
  { version: '2019-11-01', seenIn: `az CLI profile latest (2022); ${PYTHON_RESOURCES} subscriptions` },
  { version: '2020-06-01', seenIn: `${PYTHON_RESOURCES} resources` },
  { version: '2020-10-01', seenIn: `${PYTHON_RESOURCES} resources` },
  {
    version: '2021-01-01',
    seenIn: `${PYTHON_RESOURCES} resources and subscriptions (default); azure-sdk-for-go resources/mgmt/2021-01-01`,
  },
  { version: '2021-04-01', seenIn: `az CLI profile latest (2022); ${PYTHON_RESOURCES} resources` },
  {
    version: '2022-09-01',
    seenIn: `${PYTHON_RESOURCES} resources (default); go-azure-sdk resources/2022-09-01/resourcegroups (azurerm)`,
  },
  {
    version: '2022-12-01',
    seenIn:
      'az CLI profile latest (MGMT_RESOURCE_SUBSCRIPTIONS); go-azure-sdk resources/2022-12-01 (azurerm)',
  },
  { version: '2024-11-01', seenIn: 'az CLI profile latest (MGMT_RESOURCE_RESOURCES)' },
];

export type ArmProvider = 'keyVault' | 'resources';

const TABLES: Record<ArmProvider, { names: string; versions: ReadonlySet<string>; list: string }> = {
  keyVault: table('Microsoft.KeyVault', KEY_VAULT_API_VERSIONS),
  resources: table('Microsoft.Resources', RESOURCES_API_VERSIONS),
};

function table(names: string, versions: readonly ArmApiVersion[]) {
  return {
    names,
    versions: new Set(versions.map((entry) => entry.version)),
    list: versions.map((entry) => entry.version).join(', '),
  };
}

/** Resource Manager's answers: `MissingApiVersionParameter`, `InvalidApiVersionParameter`. */
export function checkArmApiVersion(provider: ArmProvider, query: Record<string, unknown>): string {
  const version = query['api-version'];
  const { names, versions, list } = TABLES[provider];
  if (typeof version !== 'string' || version === '') {
    throw new BadParameter(
      `The api-version query parameter (?api-version=) is required for all requests. ${names} supports: ${list}.`,
      'MissingApiVersionParameter',
    );
  }
  if (!versions.has(version)) {
    throw new BadParameter(
      `The api-version '${version.slice(0, 40)}' is invalid for ${names}. The supported versions are '${list}'.`,
      'InvalidApiVersionParameter',
    );
  }
  return version;
}

/**
 * From api-version 2026-02-01 a vault created without `enableRbacAuthorization` uses Azure RBAC;
 * before, access policies (learn.microsoft.com, Key Vault "access control default"). Coffer
 * follows the version the client speaks, so a template means what it meant on Azure.
 */
export function rbacByDefault(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= '2026-02-01';
}
