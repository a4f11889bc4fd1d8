import type { Curve, KeyMaterial } from '../crypto/keys/types.js';
import type { DeletedView, ObjectView, VersionRecord } from '../objects/types.js';

/** Azure's key types; -HSM keys live in the PKCS#11 token, and only premium vaults hold them. */
export type AzureKeyType = 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM' | 'oct' | 'oct-HSM';

export const KEY_OPERATIONS = [
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'wrapKey',
  'unwrapKey',
  'import',
  'export',
] as const;
export type KeyOperation = (typeof KEY_OPERATIONS)[number];

export interface ReleasePolicy {
  contentType?: string;
  immutable?: boolean;
  data?: string;
}

/** One version of a key, as stored behind the barrier. `material` holds the private key. */
export interface KeyVersionRecord extends VersionRecord {
  kty: AzureKeyType;
  keyOps: KeyOperation[];
  keySize: number;
  curve?: Curve;
  exportable?: boolean;
  releasePolicy?: ReleasePolicy;
  /** A private JWK (software key) or a reference to the key's token objects (HSM key). */
  material: KeyMaterial;
}

/** What a caller may set on a key version besides its material. */
export interface KeyProperties {
  keyOps?: KeyOperation[];
  enabled?: boolean;
  nbf?: number;
  exp?: number;
  tags?: Record<string, string>;
  exportable?: boolean;
  releasePolicy?: ReleasePolicy;
}

export interface KeyCreateRequest extends KeyProperties {
  kty: AzureKeyType;
  keySize?: number;
  curve?: Curve;
  publicExponent?: number;
}

export type KeyView = ObjectView<KeyVersionRecord>;
export type DeletedKeyView = DeletedView<KeyVersionRecord>;
