import {
  attributesInputSchema,
  attributesOutputSchema,
  nullableTagsSchema,
  tagsSchema,
} from '../http/wire/schemas.js';
import { deletedPropertiesSchema, listSchema } from '../objects/wire.js';
import { enabledAttributesOutputSchema, policyInputSchema, policyOutputSchema } from './wire-policy.js';

/** Request and response schemas of the Certificates API: the response schema is the only way data leaves. */
const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'], maxLength: 1024 } as const;
const certificateAttributesInput = attributesInputSchema;

const bundleProperties = {
  id: string,
  kid: string,
  sid: string,
  x5t: string,
  cer: string,
  contentType: string,
  attributes: attributesOutputSchema,
  tags: tagsSchema,
  policy: policyOutputSchema,
  preserveCertOrder: { type: 'boolean' },
} as const;
const itemProperties = {
  id: string,
  x5t: string,
  attributes: attributesOutputSchema,
  tags: tagsSchema,
} as const;
const contactSchema = {
  type: 'object',
  properties: {
    email: { type: 'string', maxLength: 256 },
    name: { type: 'string', maxLength: 256 },
    phone: { type: 'string', maxLength: 64 },
  },
} as const;
/** A contact as sent: unknown fields are refused (and so never stored), as in every request body. */
const contactInputSchema = { ...contactSchema, additionalProperties: false } as const;
const issuerInputProperties = {
  provider: nullableString,
  credentials: { type: ['object', 'null'], properties: { account_id: nullableString, pwd: nullableString } },
  org_details: {
    type: ['object', 'null'],
    properties: {
      id: nullableString,
      admin_details: {
        type: ['array', 'null'],
        maxItems: 20,
        items: {
          type: 'object',
          properties: { first_name: string, last_name: string, email: string, phone: string },
        },
      },
    },
  },
  attributes: { type: ['object', 'null'], properties: { enabled: { type: ['boolean', 'null'] } } },
} as const;
const adminDetails = {
  type: 'array',
  items: {
    type: 'object',
    properties: { first_name: string, last_name: string, email: string, phone: string },
  },
} as const;

export const certificateSchemas = {
  createBody: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: {
      policy: policyInputSchema,
      attributes: certificateAttributesInput,
      tags: nullableTagsSchema,
      preserveCertOrder: { type: ['boolean', 'null'] },
    },
  },
  importBody: {
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: {
      value: { type: 'string' },
      pwd: nullableString,
      policy: policyInputSchema,
      attributes: certificateAttributesInput,
      tags: nullableTagsSchema,
      preserveCertOrder: { type: ['boolean', 'null'] },
    },
  },
  updateBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      policy: policyInputSchema,
      attributes: certificateAttributesInput,
      tags: nullableTagsSchema,
    },
  },
  mergeBody: {
    type: 'object',
    required: ['x5c'],
    additionalProperties: false,
    properties: {
      x5c: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string' } },
      attributes: certificateAttributesInput,
      tags: nullableTagsSchema,
    },
  },
  operationUpdateBody: {
    type: 'object',
    required: ['cancellation_requested'],
    properties: { cancellation_requested: { type: 'boolean' } },
  },
  contactsBody: {
    type: 'object',
    required: ['contacts'],
    additionalProperties: false,
    // `id` is read-only: a client may send back the contacts it read.
    properties: { id: string, contacts: { type: 'array', items: contactInputSchema } },
  },
  issuerSetBody: { type: 'object', required: ['provider'], properties: issuerInputProperties },
  issuerUpdateBody: { type: 'object', properties: issuerInputProperties },
  bundle: { type: 'object', properties: bundleProperties },
  deletedBundle: { type: 'object', properties: { ...bundleProperties, ...deletedPropertiesSchema } },
  list: listSchema(itemProperties),
  deletedList: listSchema({ ...itemProperties, ...deletedPropertiesSchema }),
  backup: { type: 'object', properties: { value: string } },
  policy: policyOutputSchema,
  operation: {
    type: 'object',
    properties: {
      id: string,
      issuer: {
        type: 'object',
        properties: { name: string, cty: string, cert_transparency: { type: 'boolean' } },
      },
      csr: string,
      cancellation_requested: { type: 'boolean' },
      status: string,
      status_details: string,
      error: { type: 'object', properties: { code: string, message: string } },
      target: string,
      request_id: string,
      preserveCertOrder: { type: 'boolean' },
    },
  },
  issuer: {
    type: 'object',
    properties: {
      id: string,
      provider: string,
      credentials: { type: 'object', properties: { account_id: string } },
      org_details: { type: 'object', properties: { id: string, admin_details: adminDetails } },
      attributes: enabledAttributesOutputSchema,
    },
  },
  issuerList: listSchema({ id: string, provider: string }),
  contacts: { type: 'object', properties: { id: string, contacts: { type: 'array', items: contactSchema } } },
} as const;
