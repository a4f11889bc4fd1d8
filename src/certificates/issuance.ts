import type { KeyPlacement, KeyProvider } from '../crypto/keys/provider.js';
import { type KeyMaterial, isHsmMaterial } from '../crypto/keys/types.js';
import { BadParameter } from '../errors/index.js';
import { keySpecFor } from '../keys/key-rules.js';
import { encodeSecretValue, pkcs8FromJwk, spkiFromPublicJwk } from '../crypto/formats/index.js';
import { isEcType } from './policy.js';
import type { CertificatePolicy, SecretContentType } from './types.js';
import { buildCsr, issueCertificate, type Signer, signingAlgorithmFor } from '../crypto/x509/index.js';

/** Backdating notBefore a little lets a relying party whose clock lags accept a fresh certificate. */
const BACKDATE_SECONDS = 5 * 60;

/** A CA that signs for an issuer: its certificate and the material of its (non-exportable) key. */
export interface IssuingCa {
  certificateDer: Buffer;
  material: KeyMaterial;
  /** The CA's own chain above it, leaf-first order continuing from the CA (DER). */
  chainAbove: Buffer[];
  notAfter: number;
}

/**
 * Turns a policy into key pairs, requests and certificates. Every signature, the CA's included,
 * goes through the key provider, so a key never leaves it and an HSM provider can take over.
 */
export function createIssuance(provider: KeyProvider) {
  const publicJwk = (material: KeyMaterial) => provider.publicJwk(material);

  function signerFor(material: KeyMaterial): Signer {
    const jwk = publicJwk(material);
    if (jwk.kty === 'oct') throw new Error('a symmetric key cannot sign a certificate');
    const alg = signingAlgorithmFor(jwk);
    return { alg, sign: (digest: Buffer) => provider.sign(material, alg, digest) };
  }

  const publicKeySpki = (material: KeyMaterial) => spkiFromPublicJwk(publicJwk(material));

  return {
    publicKeySpki,

    /** A new key for the policy; `placement` puts -HSM keys (premium vaults only) in the token. */
    generateKey(policy: CertificatePolicy, placement: KeyPlacement): Promise<KeyMaterial> {
      const { kty, keySize, curve } = policy.key;
      return provider.generate(keySpecFor(isEcType(kty) ? { kty, curve } : { kty, keySize }), placement);
    },

    csr: (policy: CertificatePolicy, material: KeyMaterial) =>
      buildCsr(policy.x509, publicKeySpki(material), signerFor(material)),

    /** A certificate for the policy: self-signed, or signed by `ca` and never outliving it. */
    async issue(policy: CertificatePolicy, material: KeyMaterial, nowSeconds: number, ca?: IssuingCa) {
      const notBefore = new Date((nowSeconds - BACKDATE_SECONDS) * 1000);
      const notAfter = addMonths(new Date(nowSeconds * 1000), policy.x509.validityMonths);
      const capped = ca && notAfter.getTime() > ca.notAfter * 1000 ? new Date(ca.notAfter * 1000) : notAfter;
      return issueCertificate({
        fields: policy.x509,
        publicKeySpki: publicKeySpki(material),
        notBefore,
        notAfter: capped,
        signer: signerFor(ca ? ca.material : material),
        issuerCertificate: ca?.certificateDer,
      });
    },
  };
}

export type Issuance = ReturnType<typeof createIssuance>;

function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  result.setUTCMonth(result.getUTCMonth() + months);
  return result;
}

/**
 * The value of a certificate's secret: the PKCS#12 (base64) or PEM with the chain, and the
 * private key only when the policy makes the key exportable.
 */
export function secretValue(
  contentType: SecretContentType,
  chain: Buffer[],
  material: KeyMaterial | undefined,
): string {
  if (material && isHsmMaterial(material)) {
    // Policies refuse exportable HSM keys; a key in the token has no bytes to put here anyway.
    throw new BadParameter('A certificate whose key is in the HSM cannot be exportable.');
  }
  return encodeSecretValue(contentType, {
    certificates: chain,
    privateKeyPkcs8: material && pkcs8FromJwk(material),
  });
}
