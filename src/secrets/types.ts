/** One version of a secret, as stored behind the barrier. Times are Unix seconds. */
export interface SecretVersionRecord {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

/** The current state of a name: which version is latest, and, once deleted, when. */
export interface SecretHead {
  /** The name as first written; lookups ignore case. */
  name: string;
  latestVersion: string;
}

export interface DeletedSecretHead extends SecretHead {
  deletedDate: number;
  scheduledPurgeDate: number;
}

/** What a caller may set on a secret version besides its value. */
export interface SecretProperties {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque position for the next page, or undefined on the last page. */
  next?: string;
}
