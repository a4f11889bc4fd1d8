import { MAX_ACCESS_POLICIES, MAX_IP_RULES } from '../vaults/access-control.js';

/**
 * Bounded request schemas for Resource Manager bodies (swagger 2024-11-01 names). Unknown fields
 * are a 400 that names them, as everywhere in Coffer; the read-only fields a client may echo
 * back from a GET (`id`, `name`, `type`, `systemData`, `vaultUri`, `provisioningState`) are
 * accepted and ignored.
 */

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const readOnly = { id: text(400), name: text(100), type: text(100), systemData: { type: 'object' } } as const;

export const tagsSchema = {
  type: 'object',
  maxProperties: 50,
  additionalProperties: text(256),
} as const;

const permissionList = { type: 'array', maxItems: 32, items: text(40) } as const;

const accessPolicyEntry = {
  type: 'object',
  required: ['tenantId', 'objectId', 'permissions'],
  additionalProperties: false,
  properties: {
    tenantId: text(64),
    objectId: { type: 'string', minLength: 1, maxLength: 100 },
    applicationId: text(64),
    permissions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        keys: permissionList,
        secrets: permissionList,
        certificates: permissionList,
        storage: permissionList,
      },
    },
  },
} as const;

const accessPolicies = { type: 'array', maxItems: MAX_ACCESS_POLICIES, items: accessPolicyEntry } as const;

const networkAcls = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bypass: { type: 'string', enum: ['AzureServices', 'None'] },
    defaultAction: text(10),
    ipRules: {
      type: 'array',
      maxItems: MAX_IP_RULES,
      items: {
        type: 'object',
        required: ['value'],
        additionalProperties: false,
        properties: { value: text(100) },
      },
    },
    virtualNetworkRules: {
      type: 'array',
      maxItems: 400,
      items: {
        type: 'object',
        required: ['id'],
        additionalProperties: false,
        properties: { id: text(400), ignoreMissingVnetServiceEndpoint: { type: 'boolean' } },
      },
    },
  },
} as const;

const vaultProperties = {
  tenantId: text(64),
  sku: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      family: { type: 'string', enum: ['A'] },
      name: { type: 'string', enum: ['standard', 'premium'] },
    },
  },
  accessPolicies,
  vaultUri: text(300),
  enabledForDeployment: { type: 'boolean' },
  enabledForDiskEncryption: { type: 'boolean' },
  enabledForTemplateDeployment: { type: 'boolean' },
  enableSoftDelete: { type: 'boolean' },
  softDeleteRetentionInDays: { type: 'integer' },
  enableRbacAuthorization: { type: 'boolean' },
  createMode: { type: 'string', enum: ['default', 'recover'] },
  enablePurgeProtection: { type: 'boolean' },
  networkAcls,
  provisioningState: text(40),
  publicNetworkAccess: text(16),
} as const;

/**
 * `VaultCreateOrUpdateParameters`: location and properties (with tenantId and sku) required,
 * except to recover a deleted vault, which Azure takes with `createMode` alone.
 */
export const vaultPutSchema = {
  type: 'object',
  required: ['location', 'properties'],
  additionalProperties: false,
  properties: {
    ...readOnly,
    location: text(64),
    tags: tagsSchema,
    properties: {
      type: 'object',
      additionalProperties: false,
      properties: vaultProperties,
      if: { required: ['createMode'], properties: { createMode: { const: 'recover' } } },
      then: {},
      else: { required: ['tenantId', 'sku'] },
    },
  },
} as const;

/** `VaultPatchParameters`: every field optional. */
export const vaultPatchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...readOnly,
    tags: tagsSchema,
    properties: { type: 'object', additionalProperties: false, properties: vaultProperties },
  },
} as const;

/** `VaultAccessPolicyParameters`. */
export const accessPolicyUpdateSchema = {
  type: 'object',
  required: ['properties'],
  additionalProperties: false,
  properties: {
    ...readOnly,
    location: text(64),
    properties: {
      type: 'object',
      required: ['accessPolicies'],
      additionalProperties: false,
      properties: { accessPolicies },
    },
  },
} as const;

/** `VaultCheckNameAvailabilityParameters`. */
export const checkNameSchema = {
  type: 'object',
  required: ['name', 'type'],
  additionalProperties: false,
  properties: { name: text(100), type: { type: 'string', enum: ['Microsoft.KeyVault/vaults'] } },
} as const;

/** `ResourceGroup` (Microsoft.Resources). */
export const resourceGroupSchema = {
  type: 'object',
  required: ['location'],
  additionalProperties: false,
  properties: {
    ...readOnly,
    location: text(64),
    tags: tagsSchema,
    managedBy: text(400),
    properties: { type: 'object', additionalProperties: false, properties: { provisioningState: text(40) } },
  },
} as const;
