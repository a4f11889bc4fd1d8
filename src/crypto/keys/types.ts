/**
 * Key material as the key providers see it. The keys service maps Azure's RSA-HSM / EC-HSM /
 * oct-HSM onto the three plain key types; whether a key lives in an HSM is the provider's business.
 */
export type KeyType = 'RSA' | 'EC' | 'oct';

/** Azure's curve names (JsonWebKeyCurveName). 'P-256K' is secp256k1. */
export type Curve = 'P-256' | 'P-256K' | 'P-384' | 'P-521';

export const KEY_TYPES: readonly KeyType[] = ['RSA', 'EC', 'oct'];
export const CURVES: readonly Curve[] = ['P-256', 'P-256K', 'P-384', 'P-521'];

/** What to generate. `size` is in bits (RSA modulus, oct key); `curve` is for EC only. */
export interface KeySpec {
  kty: KeyType;
  size?: number;
  curve?: Curve;
  publicExponent?: number;
}

// Every binary field below is base64url without padding, as in a JWK.

/** The members of an RSA private JWK, public ones first. */
export const RSA_PRIVATE_FIELDS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
export type RsaField = (typeof RSA_PRIVATE_FIELDS)[number];

export type RsaPrivateJwk = { kty: 'RSA' } & Record<RsaField, string>;

export interface EcPrivateJwk {
  kty: 'EC';
  crv: Curve;
  x: string;
  y: string;
  d: string;
}

export interface OctJwk {
  kty: 'oct';
  k: string;
}

/**
 * A software key as persisted behind the encryption barrier: a private JWK as a plain JSON
 * object. It must never be logged or put in a response.
 */
export type StoredKeyMaterial = RsaPrivateJwk | EcPrivateJwk | OctJwk;

/**
 * A key kept in a PKCS#11 token: the stored record names the token objects (CKA_ID) and holds
 * only the public part, so nothing private ever reaches the barrier or the disk.
 */
export interface HsmKeyReference {
  /** CKA_ID of the key's token objects (private and public, or secret), hex. */
  id: string;
  /** The token's manufacturer and model when the key was made (Azure's `hsmPlatform`). */
  platform: string;
  /**
   * Present only inside a backup blob: the private or secret key wrapped (AES key wrap with
   * padding) by the token under the installation's backup key, so it opens only in a token that
   * holds that key.
   */
  wrapped?: string;
}

export type HsmKeyMaterial =
  | { kty: 'RSA'; hsm: HsmKeyReference; n: string; e: string }
  | { kty: 'EC'; hsm: HsmKeyReference; crv: Curve; x: string; y: string }
  | { kty: 'oct'; hsm: HsmKeyReference; bits: number };

/** What a key version stores: a private JWK (software) or a reference into the token (HSM). */
export type KeyMaterial = StoredKeyMaterial | HsmKeyMaterial;

export function isHsmMaterial(material: KeyMaterial): material is HsmKeyMaterial {
  return 'hsm' in material && typeof material.hsm === 'object' && material.hsm !== null;
}

/** An HSM key's public part, from its record: reading it needs no token. */
export function hsmPublicJwk(material: HsmKeyMaterial): PublicJwk {
  if (material.kty === 'RSA') return { kty: 'RSA', n: material.n, e: material.e };
  if (material.kty === 'EC') return { kty: 'EC', crv: material.crv, x: material.x, y: material.y };
  return { kty: 'oct' };
}

/** The public part of a key, with Azure's JsonWebKey field names. Nothing secret: oct keys show only kty. */
export type PublicJwk =
  { kty: 'RSA'; n: string; e: string } | { kty: 'EC'; crv: Curve; x: string; y: string } | { kty: 'oct' };
