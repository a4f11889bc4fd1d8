import type { Curve, KeyMaterial } from '../crypto/keys/types.js';
import type { DeletedView, ObjectView, VersionRecord } from '../objects/types.js';
import type { KeyUsage, SubjectAlternativeNames } from '../crypto/x509/types.js';

import type { SecretContentType } from '../crypto/formats/content-types.js';

export {
  PEM_CONTENT_TYPE,
  PKCS12_CONTENT_TYPE,
  type SecretContentType,
} from '../crypto/formats/content-types.js';

/** Issuer names Key Vault reserves: `Self` signs with the certificate's own key; `Unknown` waits for a merge. */
export const SELF_ISSUER = 'Self';
export const UNKNOWN_ISSUER = 'Unknown';

export type CertificateKeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM';

export interface LifetimeAction {
  trigger: { lifetimePercentage?: number; daysBeforeExpiry?: number };
  action: 'AutoRenew' | 'EmailContacts';
}

/** How a certificate is issued and renewed (Azure's CertificatePolicy), one per certificate. */
export interface CertificatePolicy {
  key: { exportable: boolean; kty: CertificateKeyType; keySize?: number; curve?: Curve; reuseKey: boolean };
  contentType: SecretContentType;
  x509: {
    subject: string;
    sans?: SubjectAlternativeNames;
    ekus: string[];
    keyUsage: KeyUsage[];
    validityMonths: number;
  };
  lifetimeActions: LifetimeAction[];
  issuer: { name: string; certificateType?: string; certificateTransparency?: boolean };
  enabled: boolean;
  created: number;
  updated: number;
  /** The certificate version whose contacts were notified, so each version notifies once. */
  actedVersion?: string;
}

/** One issued version. Its key and secret are versions of the same id in `keys` and `secrets`. */
export interface CertificateVersionRecord extends VersionRecord {
  /** The certificate, DER as standard base64 (Key Vault's `cer`). */
  cer: string;
  x5t: string;
  contentType: SecretContentType;
  preserveCertOrder?: boolean;
}

export type PendingStatus = 'inProgress' | 'completed' | 'cancelled' | 'failed';

/** A creation in progress (Azure's CertificateOperation), kept until deleted or replaced. */
export interface PendingOperation {
  /** The certificate's name as the creator spelled it (records from before it was kept lack it). */
  name?: string;
  /** The version the certificate will get when the operation completes. */
  version: string;
  issuer: CertificatePolicy['issuer'];
  /** PKCS#10 request, DER as standard base64. */
  csr: string;
  cancellationRequested: boolean;
  status: PendingStatus;
  statusDetails: string;
  error?: { code: string; message: string };
  requestId: string;
  /** The private key of the request until a merge completes it; dropped afterwards. */
  material?: KeyMaterial;
  /** Attributes and tags the caller gave at creation, applied when it completes. */
  enabled?: boolean;
  tags?: Record<string, string>;
  preserveCertOrder?: boolean;
  created: number;
  updated: number;
}

export interface Issuer {
  name: string;
  provider: string;
  accountId?: string;
  /** Kept behind the barrier and never returned, as Key Vault does with issuer passwords. */
  password?: string;
  organizationId?: string;
  administrators?: { firstName?: string; lastName?: string; email?: string; phone?: string }[];
  enabled: boolean;
  created: number;
  updated: number;
}

export interface Contact {
  email?: string;
  name?: string;
  phone?: string;
}

export type CertificateView = ObjectView<CertificateVersionRecord>;
export type DeletedCertificateView = DeletedView<CertificateVersionRecord>;

/** A certificate whose first version is still being created: only its operation exists. */
export interface PendingCertificate {
  name: string;
  operation: PendingOperation;
}
