import { BadParameter } from '../errors/index.js';
import {
  attributesInputSchema,
  attributesOutputSchema,
  given,
  tagsSchema,
  nullableTagsSchema,
} from '../http/wire/schemas.js';
import { fromBase64Url, toBase64Url } from '../lib/base64.js';
import { deletedFields, deletedPropertiesSchema, listSchema, objectAttributes } from '../objects/wire.js';
import type { VaultRecord } from '../vaults/types.js';
import { type Curve, type PublicJwk, isHsmMaterial } from '../crypto/keys/types.js';
import type { RotationPolicy } from './rotation-policy.js';
import type {
  AzureKeyType,
  DeletedKeyView,
  KeyOperation,
  KeyProperties,
  KeyView,
  ReleasePolicy,
} from './types.js';

/** The only code that knows Azure's JSON for keys (keys.json of the data-plane spec). */

interface KeyAttributesInput {
  enabled?: boolean | null;
  nbf?: number | null;
  exp?: number | null;
  exportable?: boolean | null;
}

export interface KeyPropertiesBody {
  key_ops?: KeyOperation[] | null;
  attributes?: KeyAttributesInput | null;
  tags?: Record<string, string> | null;
  release_policy?: ReleasePolicy | null;
}

export interface KeyCreateBody extends KeyPropertiesBody {
  kty: AzureKeyType;
  key_size?: number | null;
  public_exponent?: number | null;
  crv?: Curve | null;
}

export interface KeyImportBody extends KeyPropertiesBody {
  Hsm?: boolean | null;
  key: Record<string, unknown>;
}

export function propertiesFromWire(body: KeyPropertiesBody | undefined): KeyProperties {
  const attributes = given(body?.attributes);
  return {
    keyOps: given(body?.key_ops),
    tags: given(body?.tags),
    enabled: given(attributes?.enabled),
    nbf: given(attributes?.nbf),
    exp: given(attributes?.exp),
    exportable: given(attributes?.exportable),
    releasePolicy: given(body?.release_policy),
  };
}

/** A base64url binary field of an operation body; malformed input is a 400 naming the field. */
export function binaryField(value: unknown, field: string): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  const bytes = typeof value === 'string' ? fromBase64Url(value) : undefined;
  if (!bytes) throw new BadParameter(`${field} must be base64url-encoded bytes.`);
  return bytes;
}

const keyId = (baseUrl: string, name: string, version?: string) =>
  version ? `${baseUrl}/keys/${name}/${version}` : `${baseUrl}/keys/${name}`;

function attributes(view: KeyView, vault: VaultRecord) {
  const { material } = view.record;
  return {
    ...objectAttributes(view.record, vault),
    exportable: view.record.exportable ?? false,
    // Azure names the HSM that holds a key; software keys have none.
    hsmPlatform: isHsmMaterial(material) ? material.hsm.platform : undefined,
  };
}

export function keyBundle(baseUrl: string, vault: VaultRecord, view: KeyView, publicKey: PublicJwk) {
  const { head, record } = view;
  return {
    key: {
      ...publicKey,
      kty: record.kty,
      kid: keyId(baseUrl, head.name, record.version),
      key_ops: record.keyOps,
    },
    attributes: attributes(view, vault),
    tags: record.tags,
    managed: record.managed,
    release_policy: record.releasePolicy,
  };
}

export function keyItem(baseUrl: string, vault: VaultRecord, view: KeyView, withVersion: boolean) {
  return {
    kid: keyId(baseUrl, view.head.name, withVersion ? view.record.version : undefined),
    attributes: attributes(view, vault),
    tags: view.record.tags,
    managed: view.record.managed,
  };
}

export function deletedKeyBundle(
  baseUrl: string,
  vault: VaultRecord,
  view: DeletedKeyView,
  publicKey: PublicJwk,
) {
  return { ...keyBundle(baseUrl, vault, view, publicKey), ...deletedFields(baseUrl, 'keys', view.head) };
}

export function deletedKeyItem(baseUrl: string, vault: VaultRecord, view: DeletedKeyView) {
  return { ...keyItem(baseUrl, vault, view, false), ...deletedFields(baseUrl, 'keys', view.head) };
}

export function operationResult(
  baseUrl: string,
  view: KeyView,
  fields: { value: Buffer; iv?: Buffer; tag?: Buffer; aad?: Buffer },
) {
  return {
    kid: keyId(baseUrl, view.head.name, view.record.version),
    value: toBase64Url(fields.value),
    iv: fields.iv && toBase64Url(fields.iv),
    tag: fields.tag && toBase64Url(fields.tag),
    aad: fields.aad && toBase64Url(fields.aad),
  };
}

export function rotationPolicyBody(baseUrl: string, name: string, policy: Partial<RotationPolicy>) {
  return {
    id: `${baseUrl}/keys/${name}/rotationpolicy`,
    lifetimeActions: policy.lifetimeActions ?? [],
    attributes: { expiryTime: policy.expiryTime, created: policy.created, updated: policy.updated },
  };
}

const keyOpsSchema = { type: ['array', 'null'], items: { type: 'string' }, maxItems: 8 } as const;
const releasePolicySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { contentType: { type: 'string' }, immutable: { type: 'boolean' }, data: { type: 'string' } },
} as const;
const keyAttributesInput = {
  ...attributesInputSchema,
  properties: {
    ...attributesInputSchema.properties,
    exportable: { type: ['boolean', 'null'] },
    // Read-only: accepted and ignored, as Azure does.
    hsmPlatform: { type: ['string', 'null'] },
    attestation: { type: ['object', 'null'] },
    key_size: { type: ['integer', 'null'] },
  },
} as const;
const propertiesInput = {
  key_ops: keyOpsSchema,
  attributes: keyAttributesInput,
  tags: nullableTagsSchema,
  release_policy: releasePolicySchema,
} as const;

const stringField = { type: 'string' } as const;
const jwkOutput = {
  type: 'object',
  properties: {
    kid: stringField,
    kty: stringField,
    key_ops: { type: 'array', items: stringField },
    n: stringField,
    e: stringField,
    crv: stringField,
    x: stringField,
    y: stringField,
  },
} as const;
const keyAttributesOutput = {
  ...attributesOutputSchema,
  properties: {
    ...attributesOutputSchema.properties,
    exportable: { type: 'boolean' },
    hsmPlatform: { type: 'string' },
  },
} as const;
const bundleProperties = {
  key: jwkOutput,
  attributes: keyAttributesOutput,
  tags: tagsSchema,
  managed: { type: 'boolean' },
  release_policy: { type: 'object', properties: releasePolicySchema.properties },
} as const;
const itemProperties = {
  kid: { type: 'string' },
  attributes: keyAttributesOutput,
  tags: tagsSchema,
  managed: { type: 'boolean' },
} as const;
const binary = { type: 'string' } as const;
const lifetimeActionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    trigger: {
      type: 'object',
      additionalProperties: false,
      properties: { timeAfterCreate: stringField, timeBeforeExpiry: stringField },
    },
    action: { type: 'object', additionalProperties: false, properties: { type: stringField } },
  },
} as const;

export const keySchemas = {
  createBody: {
    type: 'object',
    required: ['kty'],
    additionalProperties: false,
    properties: {
      kty: { type: 'string' },
      key_size: { type: ['integer', 'null'] },
      public_exponent: { type: ['integer', 'null'] },
      crv: { type: ['string', 'null'] },
      ...propertiesInput,
    },
  },
  importBody: {
    type: 'object',
    required: ['key'],
    additionalProperties: false,
    properties: { Hsm: { type: ['boolean', 'null'] }, key: { type: 'object' }, ...propertiesInput },
  },
  updateBody: { type: 'object', additionalProperties: false, properties: propertiesInput },
  operationBody: {
    type: 'object',
    required: ['alg', 'value'],
    properties: {
      alg: { type: 'string' },
      value: binary,
      iv: { type: ['string', 'null'] },
      aad: { type: ['string', 'null'] },
      tag: { type: ['string', 'null'] },
    },
  },
  signBody: {
    type: 'object',
    required: ['alg', 'value'],
    properties: { alg: { type: 'string' }, value: binary },
  },
  verifyBody: {
    type: 'object',
    required: ['alg', 'digest', 'value'],
    properties: { alg: { type: 'string' }, digest: binary, value: binary },
  },
  randomBody: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
  rotationPolicyBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      id: { type: ['string', 'null'] },
      lifetimeActions: {
        type: ['array', 'null'],
        maxItems: 10,
        items: lifetimeActionSchema,
      },
      attributes: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {
          expiryTime: { type: ['string', 'null'] },
          created: { type: ['integer', 'null'] },
          updated: { type: ['integer', 'null'] },
        },
      },
    },
  },
  bundle: { type: 'object', properties: bundleProperties },
  deletedBundle: { type: 'object', properties: { ...bundleProperties, ...deletedPropertiesSchema } },
  list: listSchema(itemProperties),
  deletedList: listSchema({ ...itemProperties, ...deletedPropertiesSchema }),
  operationResult: {
    type: 'object',
    properties: { kid: { type: 'string' }, value: binary, iv: binary, tag: binary, aad: binary },
  },
  verifyResult: { type: 'object', properties: { value: { type: 'boolean' } } },
  valueResult: { type: 'object', properties: { value: binary } },
  rotationPolicy: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      lifetimeActions: {
        type: 'array',
        items: lifetimeActionSchema,
      },
      attributes: {
        type: 'object',
        properties: {
          expiryTime: { type: 'string' },
          created: { type: 'integer' },
          updated: { type: 'integer' },
        },
      },
    },
  },
} as const;
