import { given } from '../http/wire/schemas.js';
import { deletedFields, objectAttributes } from '../objects/wire.js';
import type { VaultRecord } from '../vaults/types.js';
import type {
  CertificatePolicy,
  CertificateView,
  Contact,
  DeletedCertificateView,
  Issuer,
  PendingOperation,
} from './types.js';
import { type PolicyBody, policyToWire } from './wire-policy.js';

/** The only code that knows Azure's JSON for certificates (certificates.json of the data-plane spec). */

export interface AttributesBody {
  attributes?: { enabled?: boolean | null } | null;
  tags?: Record<string, string> | null;
}
export interface CreateBody extends AttributesBody {
  policy?: PolicyBody | null;
  preserveCertOrder?: boolean | null;
}
export interface ImportBody extends CreateBody {
  value: string;
  pwd?: string | null;
}
export interface MergeBody extends AttributesBody {
  x5c: string[];
}
export interface IssuerBody {
  provider?: string | null;
  credentials?: { account_id?: string | null; pwd?: string | null } | null;
  org_details?: {
    id?: string | null;
    admin_details?: { first_name?: string; last_name?: string; email?: string; phone?: string }[] | null;
  } | null;
  attributes?: { enabled?: boolean | null } | null;
}

export function attributesFromWire(body: AttributesBody | undefined) {
  return { enabled: given(given(body?.attributes)?.enabled), tags: given(body?.tags) };
}

const certificateId = (baseUrl: string, name: string, version?: string) =>
  version ? `${baseUrl}/certificates/${name}/${version}` : `${baseUrl}/certificates/${name}`;

export function certificateBundle(
  baseUrl: string,
  vault: VaultRecord,
  view: CertificateView,
  policy: CertificatePolicy | undefined,
) {
  const { head, record } = view;
  return {
    id: certificateId(baseUrl, head.name, record.version),
    kid: `${baseUrl}/keys/${head.name}/${record.version}`,
    sid: `${baseUrl}/secrets/${head.name}/${record.version}`,
    x5t: record.x5t,
    cer: record.cer,
    contentType: record.contentType,
    attributes: objectAttributes(record, vault),
    tags: record.tags,
    policy: policy && policyToWire(baseUrl, head.name, policy),
    preserveCertOrder: record.preserveCertOrder,
  };
}

/**
 * A certificate whose first version is still pending: Key Vault answers with the version it will
 * get, disabled, without `cer`, so a client can follow the operation from the certificate.
 */
export function pendingCertificateBundle(
  baseUrl: string,
  vault: VaultRecord,
  name: string,
  operation: PendingOperation,
  policy: CertificatePolicy | undefined,
) {
  return {
    ...pendingCertificateItem(baseUrl, vault, name, operation),
    id: certificateId(baseUrl, name, operation.version),
    policy: policy && policyToWire(baseUrl, name, policy),
  };
}

/** A certificate listed with `includePending=true` before its first version exists. */
export function pendingCertificateItem(
  baseUrl: string,
  vault: VaultRecord,
  name: string,
  operation: PendingOperation,
) {
  return {
    id: certificateId(baseUrl, name),
    attributes: {
      enabled: false,
      created: operation.created,
      updated: operation.updated,
      recoverableDays: vault.softDeleteRetentionInDays,
    },
    tags: operation.tags,
  };
}

export function certificateItem(
  baseUrl: string,
  vault: VaultRecord,
  view: CertificateView,
  withVersion: boolean,
) {
  const { head, record } = view;
  return {
    id: certificateId(baseUrl, head.name, withVersion ? record.version : undefined),
    x5t: record.x5t,
    attributes: objectAttributes(record, vault),
    tags: record.tags,
  };
}

export function deletedCertificateBundle(
  baseUrl: string,
  vault: VaultRecord,
  view: DeletedCertificateView,
  policy: CertificatePolicy | undefined,
) {
  return {
    ...certificateBundle(baseUrl, vault, view, policy),
    ...deletedFields(baseUrl, 'certificates', view.head),
  };
}

export function deletedCertificateItem(baseUrl: string, vault: VaultRecord, view: DeletedCertificateView) {
  return {
    ...certificateItem(baseUrl, vault, view, false),
    ...deletedFields(baseUrl, 'certificates', view.head),
  };
}

export function operationBody(baseUrl: string, name: string, operation: PendingOperation) {
  return {
    id: `${baseUrl}/certificates/${name}/pending`,
    issuer: {
      name: operation.issuer.name,
      cty: operation.issuer.certificateType,
      cert_transparency: operation.issuer.certificateTransparency,
    },
    csr: operation.csr,
    cancellation_requested: operation.cancellationRequested,
    status: operation.status,
    status_details: operation.statusDetails,
    error: operation.error,
    target: operation.status === 'completed' ? certificateId(baseUrl, name) : undefined,
    request_id: operation.requestId,
    preserveCertOrder: operation.preserveCertOrder,
  };
}

export function issuerFromWire(body: IssuerBody) {
  const organization = given(body.org_details);
  return {
    provider: given(body.provider),
    accountId: given(given(body.credentials)?.account_id),
    password: given(given(body.credentials)?.pwd),
    organizationId: given(organization?.id),
    administrators: given(organization?.admin_details)?.map((admin) => ({
      firstName: admin.first_name,
      lastName: admin.last_name,
      email: admin.email,
      phone: admin.phone,
    })),
    enabled: given(given(body.attributes)?.enabled),
  };
}

const issuerId = (baseUrl: string, name: string) => `${baseUrl}/certificates/issuers/${name}`;

/** The password is write-only: Key Vault never returns it. */
export function issuerBundle(baseUrl: string, issuer: Issuer) {
  return {
    id: issuerId(baseUrl, issuer.name),
    provider: issuer.provider,
    credentials: issuer.accountId ? { account_id: issuer.accountId } : undefined,
    org_details:
      issuer.organizationId || issuer.administrators
        ? {
            id: issuer.organizationId,
            admin_details: issuer.administrators?.map((admin) => ({
              first_name: admin.firstName,
              last_name: admin.lastName,
              email: admin.email,
              phone: admin.phone,
            })),
          }
        : undefined,
    attributes: { enabled: issuer.enabled, created: issuer.created, updated: issuer.updated },
  };
}

export const issuerItem = (baseUrl: string, issuer: Issuer) => ({
  id: issuerId(baseUrl, issuer.name),
  provider: issuer.provider,
});

export const contactsBody = (baseUrl: string, contacts: Contact[]) => ({
  id: `${baseUrl}/certificates/contacts`,
  contacts,
});

export { certificateSchemas } from './wire-schemas.js';
