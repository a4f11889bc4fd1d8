import { attributesInputSchema, given } from '../http/wire/schemas.js';
import type { Curve } from '../crypto/keys/types.js';
import type { PolicyInput } from './policy.js';
import type { CertificateKeyType, CertificatePolicy, LifetimeAction } from './types.js';
import type { KeyUsage, SubjectAlternativeNames } from '../crypto/x509/index.js';

/** Azure's JSON for a certificate policy (CertificatePolicy in certificates.json); null means absent. */
type Nullable<T> = { [K in keyof T]?: T[K] | null };

export interface PolicyBody {
  key_props?: Nullable<{
    exportable: boolean;
    kty: CertificateKeyType;
    key_size: number;
    reuse_key: boolean;
    crv: Curve;
  }> | null;
  secret_props?: Nullable<{ contentType: string }> | null;
  x509_props?: Nullable<{
    subject: string;
    sans: Nullable<{
      emails: string[];
      dns_names: string[];
      upns: string[];
      uris: string[];
      ipAddresses: string[];
    }>;
    ekus: string[];
    key_usage: KeyUsage[];
    validity_months: number;
  }> | null;
  lifetime_actions?:
    | {
        trigger?: Nullable<{ lifetime_percentage: number; days_before_expiry: number }> | null;
        action?: Nullable<{ action_type: LifetimeAction['action'] }> | null;
      }[]
    | null;
  issuer?: Nullable<{ name: string; cty: string; cert_transparency: boolean }> | null;
  attributes?: Nullable<{ enabled: boolean }> | null;
}

function sansFromWire(sans: NonNullable<NonNullable<PolicyBody['x509_props']>['sans']> | undefined) {
  if (!sans) return undefined;
  const result: SubjectAlternativeNames = {
    dnsNames: given(sans.dns_names),
    emails: given(sans.emails),
    upns: given(sans.upns),
    uris: given(sans.uris),
    ipAddresses: given(sans.ipAddresses),
  };
  const defined = definedFields(result);
  // The SDKs send `sans: {}` when a policy has no SANs: that leaves the stored ones as they are.
  return Object.keys(defined).length > 0 ? defined : undefined;
}

function definedFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

export function policyFromWire(body: PolicyBody | null | undefined): PolicyInput {
  if (!body) return {};
  const key = given(body.key_props);
  const x509 = given(body.x509_props);
  const issuer = given(body.issuer);
  const actions = given(body.lifetime_actions);
  return definedFields({
    key: key
      ? definedFields({
          exportable: given(key.exportable),
          kty: given(key.kty),
          keySize: given(key.key_size),
          reuseKey: given(key.reuse_key),
          curve: given(key.crv),
        })
      : undefined,
    contentType: given(given(body.secret_props)?.contentType),
    x509: x509
      ? definedFields({
          subject: given(x509.subject),
          sans: sansFromWire(given(x509.sans)),
          ekus: given(x509.ekus),
          keyUsage: given(x509.key_usage),
          validityMonths: given(x509.validity_months),
        })
      : undefined,
    lifetimeActions: actions?.map((action) => ({
      trigger: definedFields({
        lifetimePercentage: given(given(action.trigger)?.lifetime_percentage),
        daysBeforeExpiry: given(given(action.trigger)?.days_before_expiry),
      }),
      action: given(given(action.action)?.action_type) as LifetimeAction['action'],
    })),
    issuer: issuer
      ? definedFields({
          name: given(issuer.name),
          certificateType: given(issuer.cty),
          certificateTransparency: given(issuer.cert_transparency),
        })
      : undefined,
    enabled: given(given(body.attributes)?.enabled),
  });
}

export function policyToWire(baseUrl: string, name: string, policy: CertificatePolicy) {
  const { sans } = policy.x509;
  return {
    id: `${baseUrl}/certificates/${name}/policy`,
    key_props: {
      exportable: policy.key.exportable,
      kty: policy.key.kty,
      key_size: policy.key.keySize,
      reuse_key: policy.key.reuseKey,
      crv: policy.key.curve,
    },
    secret_props: { contentType: policy.contentType },
    x509_props: {
      subject: policy.x509.subject,
      sans: sans && {
        emails: sans.emails,
        dns_names: sans.dnsNames,
        upns: sans.upns,
        uris: sans.uris,
        ipAddresses: sans.ipAddresses,
      },
      ekus: policy.x509.ekus,
      key_usage: policy.x509.keyUsage,
      validity_months: policy.x509.validityMonths,
    },
    lifetime_actions: policy.lifetimeActions.map(({ trigger, action }) => ({
      trigger: {
        lifetime_percentage: trigger.lifetimePercentage,
        days_before_expiry: trigger.daysBeforeExpiry,
      },
      action: { action_type: action },
    })),
    issuer: {
      name: policy.issuer.name,
      cty: policy.issuer.certificateType,
      cert_transparency: policy.issuer.certificateTransparency,
    },
    attributes: { enabled: policy.enabled, created: policy.created, updated: policy.updated },
  };
}

const string = { type: 'string' } as const;
/** The attributes of a policy and of an issuer: enabled and when it was created and updated. */
export const enabledAttributesOutputSchema = {
  type: 'object',
  properties: { enabled: { type: 'boolean' }, created: { type: 'integer' }, updated: { type: 'integer' } },
} as const;
const nullableString = { type: ['string', 'null'], maxLength: 1024 } as const;
const strings = (max: number) =>
  ({ type: ['array', 'null'], maxItems: max, items: { type: 'string', maxLength: 1024 } }) as const;
const nullableInteger = { type: ['integer', 'null'] } as const;
const nullableBoolean = { type: ['boolean', 'null'] } as const;
const stringList = { type: 'array', items: string } as const;

export const policyInputSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    // Read-only fields of a policy a client read and sends back: accepted and ignored.
    id: nullableString,
    platformManaged: nullableBoolean,
    key_props: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        exportable: nullableBoolean,
        kty: nullableString,
        key_size: nullableInteger,
        reuse_key: nullableBoolean,
        crv: nullableString,
      },
    },
    secret_props: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { contentType: nullableString },
    },
    x509_props: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        subject: nullableString,
        sans: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            emails: strings(100),
            dns_names: strings(100),
            upns: strings(100),
            uris: strings(100),
            ipAddresses: strings(100),
          },
        },
        ekus: strings(50),
        key_usage: strings(9),
        validity_months: nullableInteger,
      },
    },
    lifetime_actions: {
      type: ['array', 'null'],
      maxItems: 2,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          trigger: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: { lifetime_percentage: nullableInteger, days_before_expiry: nullableInteger },
          },
          action: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: { action_type: nullableString },
          },
        },
      },
    },
    issuer: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { name: nullableString, cty: nullableString, cert_transparency: nullableBoolean },
    },
    attributes: attributesInputSchema,
  },
} as const;

export const policyOutputSchema = {
  type: 'object',
  properties: {
    id: string,
    key_props: {
      type: 'object',
      properties: {
        exportable: { type: 'boolean' },
        kty: string,
        key_size: { type: 'integer' },
        reuse_key: { type: 'boolean' },
        crv: string,
      },
    },
    secret_props: { type: 'object', properties: { contentType: string } },
    x509_props: {
      type: 'object',
      properties: {
        subject: string,
        sans: {
          type: 'object',
          properties: {
            emails: stringList,
            dns_names: stringList,
            upns: stringList,
            uris: stringList,
            ipAddresses: stringList,
          },
        },
        ekus: stringList,
        key_usage: stringList,
        validity_months: { type: 'integer' },
      },
    },
    lifetime_actions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          trigger: {
            type: 'object',
            properties: { lifetime_percentage: { type: 'integer' }, days_before_expiry: { type: 'integer' } },
          },
          action: { type: 'object', properties: { action_type: string } },
        },
      },
    },
    issuer: {
      type: 'object',
      properties: { name: string, cty: string, cert_transparency: { type: 'boolean' } },
    },
    attributes: enabledAttributesOutputSchema,
  },
} as const;
