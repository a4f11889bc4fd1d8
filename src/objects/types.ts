/**
 * What secrets, keys and certificates share: named objects with versions, soft delete,
 * recovery, purge and backup. Times are Unix seconds, as on Azure's wire.
 */
export interface VersionRecord {
  version: string;
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  tags?: Record<string, string>;
  /** Owned by the certificate of the same name: changed only through it (Key Vault's `managed`). */
  managed?: boolean;
}

/** The current state of a name: which version is latest. */
export interface ObjectHead {
  /** The name as first written; lookups ignore case. */
  name: string;
  latestVersion: string;
}

export interface DeletedHead extends ObjectHead {
  deletedDate: number;
  scheduledPurgeDate: number;
}

export interface ObjectView<R extends VersionRecord> {
  head: ObjectHead;
  record: R;
}

export interface DeletedView<R extends VersionRecord> {
  head: DeletedHead;
  record: R;
}

export interface Page<T> {
  items: T[];
  /** Opaque position for the next page, or undefined on the last page. */
  next?: string;
}

/** How one kind of object is named in storage, errors and backups. */
export interface ObjectKind {
  /** Storage and URL segment: `secrets`, `keys`, `certificates`. */
  collection: string;
  /** `Secret`, `Key`, `Certificate`: as Azure's messages say it. */
  noun: string;
  /** Azure's 404 code: `SecretNotFound`, `KeyNotFound`, `CertificateNotFound`. */
  notFoundCode: string;
}
