import { createHash } from 'node:crypto';
import { parseCertificate } from './certificate.js';
import { toDer } from './der.js';
import { formatName } from './dn.js';
import type { CertificateFacts } from './types.js';
import { unixSeconds } from './validity.js';

/** What Key Vault reports about a certificate; throws BadParameter for anything but one DER X.509 certificate. */
export function inspectCertificate(der: Buffer): CertificateFacts {
  const { certificate, extensions } = parseCertificate(
    der,
    'The certificate is not a valid X.509 certificate (DER)',
  );
  const tbs = certificate.tbsCertificate;
  const subject = formatName(tbs.subject);
  const issuer = formatName(tbs.issuer);
  return {
    subject,
    issuer,
    sans: extensions.sans,
    keyUsage: extensions.keyUsage,
    ekus: extensions.ekus,
    notBefore: unixSeconds(tbs.validity.notBefore),
    notAfter: unixSeconds(tbs.validity.notAfter),
    serialNumber: serialHex(Buffer.from(tbs.serialNumber)),
    x5t: createHash('sha1').update(der).digest('base64url'),
    isCa: extensions.isCa,
    publicKeySpki: toDer(tbs.subjectPublicKeyInfo),
    // Same encoding, or the same text up to case (RFC 5280 compares most DN attributes case-insensitively).
    selfIssued:
      toDer(tbs.subject).equals(toDer(tbs.issuer)) || subject.toLowerCase() === issuer.toLowerCase(),
  };
}

/** As OpenSSL and node:crypto show a serial: without the 00 that keeps a high first byte positive. */
function serialHex(content: Buffer): string {
  const unsigned =
    content.length > 1 && content[0] === 0 && content[1]! >= 0x80 ? content.subarray(1) : content;
  return unsigned.toString('hex').toUpperCase();
}
