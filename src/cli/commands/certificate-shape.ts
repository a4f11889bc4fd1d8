import { azShape } from '../az-shape.js';
import { asRecord } from '../output.js';

/**
 * Certificate policies, operations and issuers in az's names (`keyProperties`, `issuerParameters`,
 * `lifetimeActions` ...) rather than the wire's (`key_props`, `issuer`, `lifetime_actions`), so
 * the policy `certificate show` or `get-default-policy` prints can be fed back to `--policy`.
 * Input may use either spelling: az's names are translated back, the wire's pass through.
 */

const AZ_NAMES: Readonly<Record<string, string>> = {
  key_props: 'keyProperties',
  kty: 'keyType',
  key_size: 'keySize',
  reuse_key: 'reuseKey',
  crv: 'curve',
  secret_props: 'secretProperties',
  x509_props: 'x509CertificateProperties',
  sans: 'subjectAlternativeNames',
  dns_names: 'dnsNames',
  key_usage: 'keyUsage',
  validity_months: 'validityInMonths',
  issuer: 'issuerParameters',
  cty: 'certificateType',
  cert_transparency: 'certificateTransparency',
  lifetime_actions: 'lifetimeActions',
  lifetime_percentage: 'lifetimePercentage',
  days_before_expiry: 'daysBeforeExpiry',
  action_type: 'actionType',
  cancellation_requested: 'cancellationRequested',
  status_details: 'statusDetails',
  request_id: 'requestId',
  account_id: 'accountId',
  pwd: 'password',
  org_details: 'organizationDetails',
  admin_details: 'adminDetails',
  first_name: 'firstName',
  last_name: 'lastName',
};

const WIRE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(AZ_NAMES).map(([wire, az]) => [az, wire]),
);

function renamed(value: unknown, names: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(value)) return value.map((item) => renamed(item, names));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      names[key] ?? key,
      key === 'attributes' ? inner : renamed(inner, names),
    ]),
  );
}

/** A wire policy, pending operation or issuer in az's names (dates as az prints them). */
export function azNames(value: unknown): Record<string, unknown> {
  return asRecord(renamed(azShape(value), AZ_NAMES));
}

/** A policy or issuer given in az's names (or the wire's), as the wire wants it. */
export function wireNames(value: unknown): Record<string, unknown> {
  return asRecord(renamed(value, WIRE_NAMES));
}

/** A certificate bundle or list item: its policy in az's names. */
export function certificateShape(value: unknown): Record<string, unknown> {
  const shaped = azShape(value);
  if (shaped['policy'] !== undefined) shaped['policy'] = azNames(asRecord(value)['policy']);
  return shaped;
}

/** An issuer: az names, and its name from `.../certificates/issuers/NAME`. */
export function issuerShape(value: unknown): Record<string, unknown> {
  const shaped = azNames(value);
  const id = shaped['id'];
  if (typeof id === 'string') shaped['name'] = decodeURIComponent(id.split('/').pop() ?? '');
  return shaped;
}

/** `az keyvault certificate get-default-policy`: a self-signed RSA 2048 certificate for a year. */
export const DEFAULT_POLICY = {
  issuerParameters: { certificateTransparency: null, name: 'Self' },
  keyProperties: { curve: null, exportable: true, keySize: 2048, keyType: 'RSA', reuseKey: true },
  lifetimeActions: [{ action: { actionType: 'AutoRenew' }, trigger: { daysBeforeExpiry: 90 } }],
  secretProperties: { contentType: 'application/x-pkcs12' },
  x509CertificateProperties: {
    keyUsage: [
      'cRLSign',
      'dataEncipherment',
      'digitalSignature',
      'keyEncipherment',
      'keyAgreement',
      'keyCertSign',
    ],
    subject: 'CN=CLIGetDefaultPolicy',
    validityInMonths: 12,
  },
};
