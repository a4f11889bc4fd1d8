import { InternalError } from '../../../errors/index.js';
import type { Curve } from '../types.js';
import { type Template, ck } from './library.js';

/**
 * The attributes of the token objects that hold Key Vault keys. Every private or secret key is
 * a token object, private (visible only after login) and sensitive (its value can never be
 * read). How it may leave the token is the installation's choice:
 *
 * - `never` (no backup key configured): CKA_EXTRACTABLE false, so the key can never leave the
 *   token, wrapped or not; `pkcs11-tool --list-objects` shows it never-extractable. Backups of
 *   such keys are refused.
 * - `trusted-wrap` (a backup key is configured): CKA_EXTRACTABLE true with
 *   CKA_WRAP_WITH_TRUSTED, so the token lets it out only wrapped under a CKA_TRUSTED key, which
 *   only the token's security officer can create: the installation's backup key. That is how a
 *   Key Vault backup of an HSM key can exist and restore only where that key exists.
 */
export type ExtractPolicy = 'never' | 'trusted-wrap';

/** DER of each curve's OID, as CKA_EC_PARAMS holds it. */
export const EC_PARAMS: Record<Curve, Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-256K': Buffer.from('06052b8104000a', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
  'P-521': Buffer.from('06052b81040023', 'hex'),
};

export function curveOfParams(params: Buffer): Curve {
  const curve = (Object.keys(EC_PARAMS) as Curve[]).find((name) => EC_PARAMS[name].equals(params));
  if (!curve) throw new InternalError('token EC key on a curve Key Vault does not name');
  return curve;
}

export interface ObjectNames {
  /** CKA_ID, shared by the private and public objects of a pair. */
  id: Buffer;
  /** CKA_LABEL, for operators who list the token: `coffer/{vault}/{key}`. */
  label: string;
}

function names({ id, label }: ObjectNames): Template {
  return [
    { type: ck.CKA_TOKEN, value: true },
    { type: ck.CKA_ID, value: id },
    { type: ck.CKA_LABEL, value: label },
  ];
}

function protection(policy: ExtractPolicy): Template {
  return [
    { type: ck.CKA_PRIVATE, value: true },
    { type: ck.CKA_SENSITIVE, value: true },
    { type: ck.CKA_EXTRACTABLE, value: policy === 'trusted-wrap' },
    ...(policy === 'trusted-wrap' ? [{ type: ck.CKA_WRAP_WITH_TRUSTED, value: true }] : []),
  ];
}

/** Exactly the usages listed are on; every other one is off, so no token default grants more. */
function usages(all: readonly number[], on: readonly number[]): Template {
  return all.map((type) => ({ type, value: on.includes(type) }));
}

const PRIVATE_USAGES = [ck.CKA_SIGN, ck.CKA_SIGN_RECOVER, ck.CKA_DECRYPT, ck.CKA_UNWRAP, ck.CKA_DERIVE];
const PUBLIC_USAGES = [ck.CKA_VERIFY, ck.CKA_VERIFY_RECOVER, ck.CKA_ENCRYPT, ck.CKA_WRAP];
const SECRET_USAGES = [
  ck.CKA_ENCRYPT,
  ck.CKA_DECRYPT,
  ck.CKA_SIGN,
  ck.CKA_VERIFY,
  ck.CKA_WRAP,
  ck.CKA_UNWRAP,
  ck.CKA_DERIVE,
];

/**
 * A private key's usage: sign, and for RSA decrypt and unwrap (an RSA-HSM key may be a BYOK
 * key-exchange key). `derive` serves once, for a BYOK EC key's public point (public-point.ts).
 */
export function privateKeyTemplate(
  kty: 'RSA' | 'EC',
  on: ObjectNames,
  policy: ExtractPolicy,
  derive = false,
): Template {
  const granted = kty === 'RSA' ? [ck.CKA_SIGN, ck.CKA_DECRYPT, ck.CKA_UNWRAP] : [ck.CKA_SIGN];
  return [
    ...names(on),
    ...protection(policy),
    ...usages(PRIVATE_USAGES, derive ? [...granted, ck.CKA_DERIVE] : granted),
  ];
}

export function publicKeyTemplate(kty: 'RSA' | 'EC', on: ObjectNames): Template {
  const granted = kty === 'RSA' ? [ck.CKA_VERIFY, ck.CKA_ENCRYPT] : [ck.CKA_VERIFY];
  return [...names(on), { type: ck.CKA_PRIVATE, value: true }, ...usages(PUBLIC_USAGES, granted)];
}

/** An AES key: encrypt and decrypt, and wrap and unwrap for AES key wrap of a caller's bytes. */
export function secretKeyTemplate(on: ObjectNames, policy: ExtractPolicy): Template {
  return [
    ...names(on),
    ...protection(policy),
    ...usages(SECRET_USAGES, [ck.CKA_ENCRYPT, ck.CKA_DECRYPT, ck.CKA_WRAP, ck.CKA_UNWRAP]),
  ];
}

export const classAndType = (objectClass: number, keyType: number): Template => [
  { type: ck.CKA_CLASS, value: objectClass },
  { type: ck.CKA_KEY_TYPE, value: keyType },
];

export const keyTypeOf = (kty: 'RSA' | 'EC' | 'oct') =>
  kty === 'RSA' ? ck.CKK_RSA : kty === 'EC' ? ck.CKK_EC : ck.CKK_AES;

/**
 * A short-lived session object for a caller's bytes (AES key wrap of a client key) or an
 * ephemeral transfer key: never a token object, gone with the session at the latest.
 */
export function sessionSecret(extra: Template): Template {
  return [{ type: ck.CKA_TOKEN, value: false }, { type: ck.CKA_PRIVATE, value: true }, ...extra];
}
