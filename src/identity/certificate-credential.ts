import { createHash, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { BadParameter } from '../errors/index.js';
import { newUuid } from '../lib/ids.js';
import { OAuthError } from './oauth-error.js';
import type { CertificateCredentialRecord } from './types.js';

const PEM_PATTERN = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const MIN_RSA_BITS = 2048;
/** MSAL signs with RS256 (x5t, SHA-1 thumbprint) or PS256 (x5t#S256). */
const ALGORITHMS = ['RS256', 'PS256'];
/** Assertions valid for longer would have to be remembered that long to refuse a replay. */
export const MAX_ASSERTION_LIFETIME_S = 3600;
export const CLOCK_SKEW_S = 60;

/** A registered certificate from its PEM: public part only; any private key in the text is ignored. */
export function parseCertificateCredential(
  pem: unknown,
  displayName: unknown,
  createdAt: string,
): CertificateCredentialRecord {
  const text = typeof pem === 'string' ? PEM_PATTERN.exec(pem)?.[0] : undefined;
  let cert: X509Certificate;
  try {
    if (!text) throw new Error('no certificate');
    cert = new X509Certificate(text);
  } catch {
    throw new BadParameter('certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----).');
  }
  const key = cert.publicKey;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    throw new BadParameter(
      `certificate must hold an RSA key of at least ${MIN_RSA_BITS} bits (RS256/PS256).`,
    );
  }
  if (Date.parse(cert.validTo) <= Date.parse(createdAt)) throw new BadParameter('certificate has expired.');
  return {
    id: newUuid(),
    displayName: typeof displayName === 'string' ? displayName.slice(0, 120) : '',
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    subject: cert.subject.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    pem: cert.toString(),
    createdAt,
  };
}

/** What the API shows of a certificate credential: never the PEM body, but thumbprints as Azure shows them. */
export function certificateView(record: CertificateCredentialRecord) {
  return {
    id: record.id,
    displayName: record.displayName,
    thumbprint: Buffer.from(record.x5t, 'base64url').toString('hex').toUpperCase(),
    thumbprintSha256: Buffer.from(record.x5tS256, 'base64url').toString('hex').toUpperCase(),
    subject: record.subject,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    createdAt: record.createdAt,
  };
}

const refused = (reason: string) =>
  new OAuthError(401, 'invalid_client', `AADSTS700027: The client assertion is not valid: ${reason}.`);

/**
 * Checks a `client_assertion` signed with a registered certificate's key (RFC 7523, as MSAL
 * makes it): the certificate named by `x5t#S256` or `x5t`, its validity now, the signature,
 * `iss` = `sub` = client id, `aud` = the token endpoint, `exp`/`nbf`, and a `jti` to guard replay.
 * Returns the credential and the assertion's `jti` and expiry.
 */
export async function verifyCertificateAssertion(input: {
  assertion: string;
  clientId: string;
  certificates: readonly CertificateCredentialRecord[];
  audiences: readonly string[];
  nowMs: number;
}): Promise<{ credential: CertificateCredentialRecord; jti: string; expiresAtMs: number }> {
  let header;
  try {
    header = decodeProtectedHeader(input.assertion);
  } catch {
    throw refused('it is not a JWT');
  }
  const s256 = header['x5t#S256'];
  const credential = input.certificates.find(
    (cert) =>
      (typeof s256 === 'string' && cert.x5tS256 === s256) ||
      (header.x5t !== undefined && cert.x5t === header.x5t),
  );
  if (!credential) throw refused('no registered certificate matches its x5t#S256 or x5t header');
  if (input.nowMs < Date.parse(credential.notBefore) || input.nowMs >= Date.parse(credential.notAfter)) {
    throw refused('the certificate that signed it is outside its validity period');
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(input.assertion, new X509Certificate(credential.pem).publicKey, {
      algorithms: ALGORITHMS,
      issuer: input.clientId,
      subject: input.clientId,
      audience: [...input.audiences],
      currentDate: new Date(input.nowMs),
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (error) {
    throw refused(joseReason(error));
  }
  if (typeof payload.jti !== 'string' || payload.jti.length > 256) throw refused('jti must be a string');
  const expiresAtMs = payload.exp! * 1000;
  if (expiresAtMs - input.nowMs > MAX_ASSERTION_LIFETIME_S * 1000) {
    throw refused(`exp is more than ${MAX_ASSERTION_LIFETIME_S} seconds away`);
  }
  return { credential, jti: payload.jti, expiresAtMs };
}

/** Why jose refused a JWT, in words a client developer can act on, without echoing the token. */
export function joseReason(error: unknown): string {
  const { code, claim } = error as { code?: string; claim?: string };
  if (code === 'ERR_JWT_EXPIRED') return 'it has expired (exp)';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'its signature does not verify';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `its ${claim ?? 'claims'} claim is not acceptable`;
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return 'its alg is not allowed';
  return 'it is malformed or its key does not match';
}
