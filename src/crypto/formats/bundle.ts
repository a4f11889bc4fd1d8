import { BadParameter } from '../../errors/index.js';
import { certificateMatchesKey, parseCertificate, parsePkcs8 } from './keys.js';

/** What an exportable certificate holds, whatever its format. */
export interface CertificateBundleParts {
  /** PKCS#8 DER of the private key; absent when the bundle holds only certificates. */
  privateKeyPkcs8?: Buffer;
  /** DER certificates, leaf first (the one whose public key matches the private key, when there is a key), then the rest in the order found. */
  certificates: Buffer[];
}

/**
 * Checks what a decoder found and puts it in the shape every caller relies on: at most one key,
 * normalised to PKCS#8 by node:crypto; at least one certificate; the key's certificate first.
 * `source` names the input in messages ('PKCS#12 file', 'PEM').
 */
export function assembleBundle(
  source: string,
  keys: Buffer[],
  certificateDers: Buffer[],
): CertificateBundleParts {
  if (keys.length > 1) {
    throw new BadParameter(
      `The ${source} holds ${keys.length} private keys; it must hold one, with its certificates.`,
    );
  }
  if (certificateDers.length === 0) throw new BadParameter(`The ${source} holds no certificate.`);
  const certificates = certificateDers.map((der, index) =>
    parseCertificate(der, `Certificate ${index + 1} in the ${source}`),
  );
  const [keyBytes] = keys;
  if (keyBytes === undefined) return { certificates: certificates.map((certificate) => certificate.raw) };

  const key = parsePkcs8(keyBytes, `The private key in the ${source}`);
  const leaf = certificates.findIndex((certificate) => certificateMatchesKey(certificate, key));
  if (leaf < 0) {
    throw new BadParameter(`The private key in the ${source} does not belong to any of its certificates.`);
  }
  const ordered = [
    ...certificates.slice(leaf, leaf + 1),
    ...certificates.slice(0, leaf),
    ...certificates.slice(leaf + 1),
  ];
  return {
    privateKeyPkcs8: key.export({ type: 'pkcs8', format: 'der' }),
    certificates: ordered.map((certificate) => certificate.raw),
  };
}
