import type { DeletedView, ObjectView, VersionRecord } from '../objects/types.js';

/** One version of a secret, as stored behind the barrier. */
export interface SecretVersionRecord extends VersionRecord {
  value: string;
  contentType?: string;
}

/** What a caller may set on a secret version besides its value. */
export interface SecretProperties {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export type SecretView = ObjectView<SecretVersionRecord>;
export type DeletedSecretView = DeletedView<SecretVersionRecord>;
