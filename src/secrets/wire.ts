import {
  attributesInputSchema,
  attributesOutputSchema,
  given,
  nullableTagsSchema,
  tagsSchema,
} from '../http/wire/schemas.js';
import { deletedFields, deletedPropertiesSchema, listSchema, objectAttributes } from '../objects/wire.js';
import type { VaultRecord } from '../vaults/types.js';
import type { DeletedSecretView, SecretProperties, SecretView } from './types.js';

/** The only code that knows Azure's JSON for secrets (secrets.json of the data-plane spec). */

interface AttributesInput {
  enabled?: boolean | null;
  nbf?: number | null;
  exp?: number | null;
}

export interface SecretSetBody {
  value: string;
  contentType?: string | null;
  tags?: Record<string, string> | null;
  attributes?: AttributesInput | null;
}

export type SecretUpdateBody = Omit<SecretSetBody, 'value'>;

export function propertiesFromWire(body: SecretUpdateBody | undefined): SecretProperties {
  const attributes = given(body?.attributes);
  return {
    contentType: given(body?.contentType),
    tags: given(body?.tags),
    enabled: given(attributes?.enabled),
    nbf: given(attributes?.nbf),
    exp: given(attributes?.exp),
  };
}

const secretId = (baseUrl: string, name: string, version?: string) =>
  version ? `${baseUrl}/secrets/${name}/${version}` : `${baseUrl}/secrets/${name}`;

export function secretBundle(baseUrl: string, vault: VaultRecord, view: SecretView, withValue: boolean) {
  const { head, record } = view;
  return {
    value: withValue ? record.value : undefined,
    id: secretId(baseUrl, head.name, record.version),
    contentType: record.contentType,
    attributes: objectAttributes(record, vault),
    tags: record.tags,
    // A certificate's secret names the certificate's key, as Key Vault does.
    kid: record.managed ? `${baseUrl}/keys/${head.name}/${record.version}` : undefined,
    managed: record.managed,
  };
}

/** List items: the latest-secret listing names the secret, the versions listing names the version. */
export function secretItem(baseUrl: string, vault: VaultRecord, view: SecretView, withVersion: boolean) {
  const { head, record } = view;
  return {
    id: secretId(baseUrl, head.name, withVersion ? record.version : undefined),
    contentType: record.contentType,
    attributes: objectAttributes(record, vault),
    tags: record.tags,
    managed: record.managed,
  };
}

/** Deleted secrets never carry their value: recover it first. */
export function deletedSecretBundle(baseUrl: string, vault: VaultRecord, view: DeletedSecretView) {
  return { ...secretBundle(baseUrl, vault, view, false), ...deletedFields(baseUrl, 'secrets', view.head) };
}

export function deletedSecretItem(baseUrl: string, vault: VaultRecord, view: DeletedSecretView) {
  return { ...secretItem(baseUrl, vault, view, false), ...deletedFields(baseUrl, 'secrets', view.head) };
}

const bundleProperties = {
  value: { type: 'string' },
  id: { type: 'string' },
  contentType: { type: 'string' },
  attributes: attributesOutputSchema,
  tags: tagsSchema,
  kid: { type: 'string' },
  managed: { type: 'boolean' },
} as const;

const itemProperties = {
  id: { type: 'string' },
  contentType: { type: 'string' },
  attributes: attributesOutputSchema,
  tags: tagsSchema,
  managed: { type: 'boolean' },
} as const;

export const secretSchemas = {
  setBody: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: {
      value: { type: 'string' },
      contentType: { type: ['string', 'null'] },
      tags: nullableTagsSchema,
      attributes: attributesInputSchema,
    },
  },
  updateBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      contentType: { type: ['string', 'null'] },
      tags: nullableTagsSchema,
      attributes: attributesInputSchema,
    },
  },
  bundle: { type: 'object', properties: bundleProperties },
  deletedBundle: { type: 'object', properties: { ...bundleProperties, ...deletedPropertiesSchema } },
  list: listSchema(itemProperties),
  deletedList: listSchema({ ...itemProperties, ...deletedPropertiesSchema }),
  backup: { type: 'object', properties: { value: { type: 'string' } } },
} as const;
