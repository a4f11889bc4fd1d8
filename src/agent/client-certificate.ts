import { createHash, createPrivateKey, type KeyObject, randomUUID, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * The one credential the agent holds: a service principal's certificate and its private key, the
 * pair `coffer sp credential add` registered the certificate of. The key never leaves this
 * process: it signs short client assertions (RFC 7523), as MSAL's ClientCertificateCredential does.
 */
export interface ClientCertificate {
  readonly privateKey: KeyObject;
  /** base64url SHA-256 of the certificate's DER: how the server finds the registered certificate. */
  readonly x5tS256: string;
  readonly notAfter: Date;
}

/** Assertions live this long: enough for one token request, far below the server's one-hour limit. */
const ASSERTION_LIFETIME_S = 600;

export class CertificateFileError extends Error {}

/** A PEM holding the certificate and its unencrypted private key (as Azure's SDKs take it). */
export function readClientCertificate(pem: string, nowMs: number): ClientCertificate {
  const certificateText = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const keyText = /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA )?PRIVATE KEY-----/.exec(
    pem,
  )?.[0];
  if (!certificateText || !keyText) {
    throw new CertificateFileError(
      'the certificate file must hold a PEM certificate and its unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)',
    );
  }
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate = new X509Certificate(certificateText);
    privateKey = createPrivateKey(keyText);
  } catch {
    throw new CertificateFileError('the certificate or private key in the certificate file cannot be read');
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new CertificateFileError(
      'the private key in the certificate file does not belong to its certificate',
    );
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new CertificateFileError(
      'the certificate must hold an RSA key (client assertions are signed RS256)',
    );
  }
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() <= nowMs)
    throw new CertificateFileError(`the certificate expired on ${notAfter.toISOString()}`);
  return {
    privateKey,
    x5tS256: createHash('sha256').update(certificate.raw).digest('base64url'),
    notAfter,
  };
}

/** A client assertion for the token endpoint `audience`: iss = sub = client id, a fresh jti. */
export async function clientAssertion(
  certificate: ClientCertificate,
  clientId: string,
  audience: string,
  nowMs: number,
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', 'x5t#S256': certificate.x5tS256 })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_S)
    .setJti(randomUUID())
    .sign(certificate.privateKey);
}
