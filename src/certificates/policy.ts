import { CURVES, type Curve } from '../crypto/keys/types.js';
import { BadParameter } from '../errors/index.js';
import { KEY_USAGES, type CertificateFacts, type KeyUsage } from '../crypto/x509/index.js';
import {
  type CertificateKeyType,
  type CertificatePolicy,
  type LifetimeAction,
  PEM_CONTENT_TYPE,
  PKCS12_CONTENT_TYPE,
  type SecretContentType,
  UNKNOWN_ISSUER,
  SELF_ISSUER,
} from './types.js';

/** A policy as a caller sends it: any part may be missing; missing parts keep what was there. */
export interface PolicyInput {
  key?: Partial<CertificatePolicy['key']>;
  contentType?: string;
  x509?: Partial<CertificatePolicy['x509']>;
  lifetimeActions?: LifetimeAction[];
  issuer?: Partial<CertificatePolicy['issuer']>;
  enabled?: boolean;
}

const KEY_TYPES: readonly CertificateKeyType[] = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM'];
const RSA_SIZES = [2048, 3072, 4096];
const CONTENT_TYPES: readonly SecretContentType[] = [PKCS12_CONTENT_TYPE, PEM_CONTENT_TYPE];
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
/** Key Vault's bound on a certificate's validity: 1 to 1200 months. */
const MAX_VALIDITY_MONTHS = 1200;
const DEFAULT_VALIDITY_MONTHS = 12;

export const isEcType = (kty: CertificateKeyType) => kty.startsWith('EC');

/** Key Vault's defaults for the key usages of a new certificate's key. */
function defaultKeyUsage(kty: CertificateKeyType): KeyUsage[] {
  return isEcType(kty) ? ['digitalSignature', 'keyAgreement'] : ['digitalSignature', 'keyEncipherment'];
}

/** Renew (or, for an issuer Coffer cannot reach, remind) at 80% of the lifetime, as Key Vault does. */
function defaultLifetimeActions(issuerName: string): LifetimeAction[] {
  const action = issuerName.toLowerCase() === UNKNOWN_ISSUER.toLowerCase() ? 'EmailContacts' : 'AutoRenew';
  return [{ trigger: { lifetimePercentage: 80 }, action }];
}

/**
 * The complete policy from what a caller sent over what was there before (nothing, on create).
 * Every rule Key Vault applies to a policy is checked here, so a bad policy is a 400 that
 * changes nothing.
 */
export function resolvePolicy(
  input: PolicyInput,
  previous: CertificatePolicy | undefined,
  time: number,
): CertificatePolicy {
  const issuerName = input.issuer?.name ?? previous?.issuer.name ?? SELF_ISSUER;
  const kty = input.key?.kty ?? previous?.key.kty ?? 'RSA';
  if (!KEY_TYPES.includes(kty)) {
    throw new BadParameter(
      `key_props.kty must be one of ${KEY_TYPES.join(', ')}; got '${String(kty).slice(0, 20)}'.`,
    );
  }
  const typeChanged = previous !== undefined && isEcType(previous.key.kty) !== isEcType(kty);
  const key = resolveKey(input.key ?? {}, typeChanged ? undefined : previous?.key, kty);
  const subject = input.x509?.subject ?? previous?.x509.subject;
  const sans = input.x509?.sans ?? previous?.x509.sans;
  if (!subject && !hasSans(sans)) {
    throw new BadParameter(
      'The policy needs x509_props.subject (for example "CN=example.com") or subject alternative names.',
    );
  }
  // Inherited actions the issuer cannot run (AutoRenew once it is Unknown) give way to its defaults.
  const inheritedActions =
    issuerName.toLowerCase() === UNKNOWN_ISSUER.toLowerCase() &&
    previous?.lifetimeActions.some(({ action }) => action === 'AutoRenew')
      ? undefined
      : previous?.lifetimeActions;
  const policy: CertificatePolicy = {
    key,
    contentType: resolveContentType(input.contentType ?? previous?.contentType ?? PKCS12_CONTENT_TYPE),
    x509: {
      subject: subject ?? '',
      sans,
      ekus: validateEkus(input.x509?.ekus ?? previous?.x509.ekus ?? [SERVER_AUTH, CLIENT_AUTH]),
      keyUsage: validateKeyUsage(
        input.x509?.keyUsage ?? (typeChanged ? undefined : previous?.x509.keyUsage) ?? defaultKeyUsage(kty),
      ),
      validityMonths: validateValidity(input.x509?.validityMonths ?? previous?.x509.validityMonths),
    },
    lifetimeActions: validateLifetimeActions(
      input.lifetimeActions ?? inheritedActions ?? defaultLifetimeActions(issuerName),
      issuerName,
    ),
    issuer: {
      name: issuerName,
      certificateType: input.issuer?.certificateType ?? previous?.issuer.certificateType,
      certificateTransparency:
        input.issuer?.certificateTransparency ?? previous?.issuer.certificateTransparency,
    },
    enabled: input.enabled ?? previous?.enabled ?? true,
    created: previous?.created ?? time,
    updated: time,
  };
  return policy;
}

function hasSans(sans: CertificatePolicy['x509']['sans']): boolean {
  return Object.values(sans ?? {}).some((list) => Array.isArray(list) && list.length > 0);
}

function resolveKey(
  input: Partial<CertificatePolicy['key']>,
  previous: CertificatePolicy['key'] | undefined,
  kty: CertificateKeyType,
): CertificatePolicy['key'] {
  // Key Vault: HSM keys are never exportable; an inherited default does not make them so.
  const hsm = kty.endsWith('-HSM');
  const exportable = input.exportable ?? (hsm ? false : (previous?.exportable ?? true));
  if (hsm && exportable) {
    throw new BadParameter(
      `key_props.exportable must be false for ${kty} keys: an HSM key never leaves the HSM.`,
    );
  }
  const base = { exportable, kty, reuseKey: input.reuseKey ?? previous?.reuseKey ?? false };
  if (isEcType(kty)) {
    if (
      input.keySize !== undefined &&
      input.curve === undefined &&
      ![256, 384, 521].includes(input.keySize)
    ) {
      throw new BadParameter(
        'key_props.key_size does not apply to EC keys; choose the curve with key_props.crv.',
      );
    }
    const curve: Curve = input.curve ?? curveForSize(input.keySize) ?? previous?.curve ?? 'P-256';
    if (!CURVES.includes(curve)) throw new BadParameter(`key_props.crv must be one of ${CURVES.join(', ')}.`);
    return { ...base, curve };
  }
  if (input.curve !== undefined) throw new BadParameter(`key_props.crv applies only to EC keys, not ${kty}.`);
  const keySize = input.keySize ?? previous?.keySize ?? 2048;
  if (!RSA_SIZES.includes(keySize)) {
    throw new BadParameter(`key_props.key_size for RSA keys must be one of ${RSA_SIZES.join(', ')}.`);
  }
  return { ...base, keySize };
}

function curveForSize(size: number | undefined): Curve | undefined {
  return size === 256 ? 'P-256' : size === 384 ? 'P-384' : size === 521 ? 'P-521' : undefined;
}

function resolveContentType(contentType: string): SecretContentType {
  if (!CONTENT_TYPES.includes(contentType as SecretContentType)) {
    throw new BadParameter(`secret_props.contentType must be ${CONTENT_TYPES.join(' or ')}.`);
  }
  return contentType as SecretContentType;
}

function validateEkus(ekus: string[]): string[] {
  for (const eku of ekus) {
    if (typeof eku !== 'string' || !OID.test(eku)) {
      throw new BadParameter(
        `x509_props.ekus must hold dotted OIDs such as ${SERVER_AUTH}; got '${String(eku).slice(0, 40)}'.`,
      );
    }
  }
  return ekus;
}

function validateKeyUsage(usages: KeyUsage[]): KeyUsage[] {
  for (const usage of usages) {
    if (!KEY_USAGES.includes(usage)) {
      throw new BadParameter(
        `x509_props.key_usage may contain only ${KEY_USAGES.join(', ')}; got '${String(usage).slice(0, 30)}'.`,
      );
    }
  }
  return usages;
}

function validateValidity(months: number | undefined): number {
  const value = months ?? DEFAULT_VALIDITY_MONTHS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_VALIDITY_MONTHS) {
    throw new BadParameter(
      `x509_props.validity_months must be a whole number from 1 to ${MAX_VALIDITY_MONTHS}.`,
    );
  }
  return value;
}

function validateLifetimeActions(actions: LifetimeAction[], issuerName: string): LifetimeAction[] {
  if (actions.length > 1 && new Set(actions.map((a) => a.action)).size !== actions.length) {
    throw new BadParameter('lifetime_actions may hold each action type once.');
  }
  for (const { trigger, action } of actions) {
    if (action !== 'AutoRenew' && action !== 'EmailContacts') {
      throw new BadParameter(
        `lifetime_actions action_type must be AutoRenew or EmailContacts; got '${String(action).slice(0, 30)}'.`,
      );
    }
    const { lifetimePercentage: percentage, daysBeforeExpiry: days } = trigger;
    if ((percentage === undefined) === (days === undefined)) {
      throw new BadParameter(
        'Each lifetime action trigger needs exactly one of lifetime_percentage and days_before_expiry.',
      );
    }
    if (percentage !== undefined && (!Number.isInteger(percentage) || percentage < 1 || percentage > 99)) {
      throw new BadParameter('lifetime_percentage must be a whole number from 1 to 99.');
    }
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) {
      throw new BadParameter('days_before_expiry must be a whole number of at least 1.');
    }
    if (action === 'AutoRenew' && issuerName.toLowerCase() === UNKNOWN_ISSUER.toLowerCase()) {
      throw new BadParameter(
        'AutoRenew needs an issuer Coffer can reach (Self or a Coffer CA); with issuer Unknown use EmailContacts.',
      );
    }
  }
  return actions;
}

/**
 * The policy of an imported certificate: what the caller sent, with what the certificate itself
 * says (subject, names, usages, validity, key) taking precedence, as Key Vault derives it.
 */
export function policyFromCertificate(
  input: PolicyInput,
  previous: CertificatePolicy | undefined,
  facts: CertificateFacts,
  key: { kty: CertificateKeyType; keySize?: number; curve?: Curve },
  detectedContentType: SecretContentType,
  time: number,
): CertificatePolicy {
  const months = Math.max(1, Math.round((facts.notAfter - facts.notBefore) / (30.44 * 86400)));
  const issuerName = input.issuer?.name ?? previous?.issuer.name ?? UNKNOWN_ISSUER;
  return resolvePolicy(
    {
      ...input,
      contentType: input.contentType ?? previous?.contentType ?? detectedContentType,
      key: { ...input.key, kty: key.kty, keySize: key.keySize, curve: key.curve },
      x509: {
        subject: facts.subject,
        sans: facts.sans,
        ekus: facts.ekus,
        keyUsage: facts.keyUsage,
        validityMonths: Math.min(months, MAX_VALIDITY_MONTHS),
      },
      issuer: { ...input.issuer, name: issuerName },
    },
    // The certificate's own facts replace the old policy's; its other settings stay.
    previous && { ...previous, x509: { ...previous.x509, keyUsage: facts.keyUsage } },
    time,
  );
}
