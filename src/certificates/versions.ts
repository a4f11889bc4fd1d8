import type { KeyProvider } from '../crypto/keys/provider.js';
import type { KeyMaterial } from '../crypto/keys/types.js';
import { defaultKeyOps } from '../keys/key-rules.js';
import { secretValue } from './issuance.js';
import type { IssuedVersion } from './store.js';
import type { CertificatePolicy } from './types.js';
import { inspectCertificate } from '../crypto/x509/index.js';

export interface IssuedInput {
  version: string;
  time: number;
  /** Leaf first. */
  chain: Buffer[];
  material: KeyMaterial;
  policy: CertificatePolicy;
  enabled?: boolean;
  tags?: Record<string, string>;
  preserveCertOrder?: boolean;
}

/**
 * The three records of one certificate version. The key and secret share the certificate's
 * version id, validity and enabled state, and are marked managed: they change only through it.
 */
export function issuedVersion(provider: KeyProvider, input: IssuedInput): IssuedVersion {
  const { version, time, chain, material, policy } = input;
  const leaf = chain[0]!;
  const facts = inspectCertificate(leaf);
  const common = {
    version,
    enabled: input.enabled ?? true,
    nbf: facts.notBefore,
    exp: facts.notAfter,
    created: time,
    updated: time,
  };
  return {
    certificate: {
      ...common,
      tags: input.tags,
      cer: leaf.toString('base64'),
      x5t: facts.x5t,
      contentType: policy.contentType,
      preserveCertOrder: input.preserveCertOrder,
    },
    key: {
      ...common,
      managed: true,
      kty: policy.key.kty,
      keyOps: defaultKeyOps(policy.key.kty),
      keySize: provider.keySize(material),
      curve: material.kty === 'EC' ? material.crv : undefined,
      material,
    },
    secret: {
      ...common,
      managed: true,
      contentType: policy.contentType,
      // Without an exportable key the secret holds only the chain, as Key Vault's does.
      value: secretValue(policy.contentType, chain, policy.key.exportable ? material : undefined),
    },
  };
}
