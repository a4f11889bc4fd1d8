/**
 * The records of the audit log (docs/audit.md). Request records follow Azure Key Vault's
 * `AuditEvent` diagnostic schema field for field; checkpoints are Coffer's own. Every record
 * carries the chain fields once it is spooled.
 */

/** Azure's identity block: the claims of the token presented (or, for Authentication, asked for). */
export interface AuditIdentity {
  claim: Record<string, string>;
}

/** Azure's claim names, as Key Vault's own records spell them. */
export const CLAIMS = {
  objectId: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  tenantId: 'http://schemas.microsoft.com/identity/claims/tenantid',
  appId: 'appid',
} as const;

export interface AuditProperties {
  /** The object acted on (its URL), or the vault's. Object names are HMACed when so configured. */
  id?: string;
  requestUri: string;
  /**
   * The `x-ms-request-id` Coffer answered with (Coffer's own member): an operator finds the
   * request a client reports by it.
   */
  requestId?: string;
  httpStatusCode: number;
  /** The caller's User-Agent. */
  clientInfo: string;
  /** RBAC decisions: whether a role assignment (or the administrator flag) allowed the request. */
  isRbacAuthorized?: boolean;
  /** Access-policy decisions: whether one of the vault's access policies allowed it. */
  isAccessPolicyMatch?: boolean;
  /** The role assignment that granted (Azure's AppliedAssignmentId), with its role and scope. */
  appliedAssignmentId?: string;
  appliedRoleDefinitionId?: string;
  appliedRoleName?: string;
  appliedScope?: string;
  /** The object id an access policy that granted is written for (the caller or one of its groups). */
  appliedAccessPolicyObjectId?: string;
  /** True when the installation administrator flag granted a management action. */
  isInstallationAdministrator?: boolean;
  /** False when the vault's network rules refused the caller's address. */
  isAddressAuthorized?: boolean;
  /** Service events (VaultPermissionModelChanged ...) say what changed. */
  change?: Record<string, string>;
}

export interface AuditEventBody {
  time: string;
  resourceId: string;
  operationName: string;
  operationVersion: string;
  category: 'AuditEvent';
  resultType: 'Success' | 'Failure';
  resultSignature: string;
  resultDescription: string;
  durationMs: number;
  callerIpAddress: string;
  correlationId: string;
  identity: AuditIdentity;
  properties: AuditProperties;
}

export type CheckpointReason = 'start' | 'interval' | 'seal' | 'shutdown';

/** A signature over the chain so far, made with the installation's audit key. */
export interface CheckpointBody {
  time: string;
  category: 'AuditCheckpoint';
  reason: CheckpointReason;
  /** SHA-256 of the public key's DER (SPKI), base64url: which key signed. */
  keyId: string;
  algorithm: 'Ed25519';
  /** Ed25519 over the canonical form of this record without `signature` and `hash`. */
  signature: string;
}

export type RecordBody = AuditEventBody | CheckpointBody;

export interface ChainFields {
  /** 1 for the first record of an installation, then one more for each record. */
  sequence: number;
  /** `hash` of the record before, or GENESIS_HASH for the first. */
  previousHash: string;
  /** SHA-256 (hex) of this record's canonical form without `hash`. */
  hash: string;
}

export type AuditRecord = AuditEventBody & ChainFields;
export type CheckpointRecord = CheckpointBody & ChainFields;
export type SpooledRecord = RecordBody & ChainFields;

export const isCheckpoint = (record: { category: string }): record is CheckpointRecord =>
  record.category === 'AuditCheckpoint';

/** A record in the spool: the parsed object and the exact line written (no newline). */
export interface SpooledEntry {
  record: SpooledRecord;
  line: string;
}
