import type { SecureStore } from '../barrier/secure-store.js';
import type { KeyProvider } from '../crypto/keys/provider.js';
import { type Curve, type KeyMaterial, isHsmMaterial } from '../crypto/keys/types.js';
import { BadParameter, NotFound, unlessNotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { newVersionId } from '../lib/ids.js';
import type { BackupCodec } from '../objects/backup.js';
import { createObjectLifecycle } from '../objects/lifecycle.js';
import { objectReader } from '../objects/store.js';
import { validateCommonProperties } from '../objects/validation.js';
import { createHsmKeyKeeper } from '../keys/hsm-keys.js';
import { placementFor } from '../keys/key-rules.js';
import type { KeyVersionRecord } from '../keys/types.js';
import type { SecretVersionRecord } from '../secrets/types.js';
import type { VaultRecord } from '../vaults/types.js';
import { createContactService } from './contacts.js';
import { createIssuance } from './issuance.js';
import { createIssuerService } from './issuers.js';
import { accepted, createPendingOperations, refuseInProgress } from './pending.js';
import { type PolicyInput, isEcType, policyFromCertificate, resolvePolicy } from './policy.js';
import { certificatePaths, certificateRecords } from './store.js';
import { decodeImportValue, jwkFromPkcs8, publicKeyMatches } from '../crypto/formats/index.js';
import { issuedVersion } from './versions.js';
import {
  type CertificateKeyType,
  type CertificatePolicy,
  type CertificateVersionRecord,
  type CertificateView,
  PEM_CONTENT_TYPE,
  type SecretContentType,
  PKCS12_CONTENT_TYPE,
  UNKNOWN_ISSUER,
} from './types.js';
import { inspectCertificate } from '../crypto/x509/index.js';

export const CERTIFICATE_KIND = {
  collection: 'certificates',
  noun: 'Certificate',
  notFoundCode: 'CertificateNotFound',
} as const;

export interface CertificateAttributesInput {
  enabled?: boolean;
  tags?: Record<string, string>;
  preserveCertOrder?: boolean;
}

/**
 * Key Vault's certificates: a policy, versions issued from it, and for each version a managed
 * key (usable through the keys API) and a managed secret (the PKCS#12 or PEM). Creation runs as
 * a pending operation; Self and Coffer CA issuers complete it at once (the create still answers
 * inProgress, and the next poll sees it completed), Unknown waits for a merge.
 */
export function createCertificateService(deps: {
  vaultStore: (vault: VaultRecord) => SecureStore;
  backupCodec: BackupCodec;
  clock: Clock;
  provider: KeyProvider;
  /** Hears every committed change of an object (lifecycle.ts), for the caches built from it. */
  onChange?: (vault: VaultRecord, key: string) => void;
}) {
  const hsmKeys = createHsmKeyKeeper({ provider: deps.provider, vaultStore: deps.vaultStore });
  const objects = createObjectLifecycle<CertificateVersionRecord>({
    kind: CERTIFICATE_KIND,
    ...deps,
    companionPaths: (key) => [certificatePaths.policy(key), certificatePaths.pending(key)],
    linkedCollections: ['keys', 'secrets'],
    outside: hsmKeys.outside,
  });
  const records = (vault: VaultRecord) => certificateRecords(deps.vaultStore(vault));
  const issuance = createIssuance(deps.provider);
  const linkedVersion = async <R extends KeyVersionRecord | SecretVersionRecord>(
    vault: VaultRecord,
    collection: 'keys' | 'secrets',
    name: string,
    version: string,
  ) => objectReader<R>(deps.vaultStore(vault), collection).version(objects.keyOf(name), version);

  /** A certificate's latest version with what a CA needs of it: its key and its secret. */
  async function loadCertificate(vault: VaultRecord, name: string) {
    const view = await unlessNotFound(objects.resolve(vault, name));
    const policy = view && (await records(vault).readPolicy(objects.keyOf(name)));
    if (!view || !policy) return undefined;
    const { version } = view.record;
    const key = await linkedVersion<KeyVersionRecord>(vault, 'keys', name, version);
    const secret = await linkedVersion<SecretVersionRecord>(vault, 'secrets', name, version);
    if (!key || !secret) return undefined;
    return {
      cer: view.record.cer,
      enabled: view.record.enabled && key.enabled,
      exportable: policy.key.exportable,
      material: key.material,
      secretValue: secret.value,
      contentType: secret.contentType ?? PKCS12_CONTENT_TYPE,
    };
  }

  const issuers = createIssuerService({ records, clock: deps.clock, loadCertificate });

  /**
   * The key for a new version: the latest version's when the policy reuses keys (and it is of the
   * same type, held the same way), else a new one; `fresh` says whether it was made now.
   */
  async function keyFor(
    vault: VaultRecord,
    name: string,
    policy: CertificatePolicy,
  ): Promise<{ material: KeyMaterial; fresh: boolean }> {
    const placement = placementFor(vault, policy.key.kty, name);
    if (policy.key.reuseKey) {
      const latest = await objects.resolve(vault, name).catch(() => undefined);
      const key =
        latest && (await linkedVersion<KeyVersionRecord>(vault, 'keys', name, latest.record.version));
      const sameType =
        key &&
        isEcType(policy.key.kty) === (key.material.kty === 'EC') &&
        isHsmMaterial(key.material) === placement.hsm;
      if (key && sameType) return { material: key.material, fresh: false };
    }
    return { material: await issuance.generateKey(policy, placement), fresh: true };
  }

  const pending = createPendingOperations({ objects, records, issuance, provider: deps.provider, hsmKeys });

  async function create(
    vault: VaultRecord,
    name: string,
    input: CertificateAttributesInput & { policy?: PolicyInput },
  ) {
    const key = objects.keyOf(name);
    validateCommonProperties({ tags: input.tags });
    const time = objects.now();
    const previous = await records(vault).readPolicy(key);
    const policy = resolvePolicy(input.policy ?? {}, previous, time);
    const unknown = policy.issuer.name.toLowerCase() === UNKNOWN_ISSUER.toLowerCase();
    // Resolving the CA first means an unusable issuer is a 400 before a key is made.
    const ca = unknown ? undefined : await issuers.signingCa(vault, policy.issuer.name);
    const { material, fresh } = await keyFor(vault, name, policy);
    // A key made in the token for a version that then fails to be written is destroyed again.
    const keep = <T>(work: () => Promise<T>) => (fresh ? hsmKeys.adopt(material, work) : work());
    return keep(async () => {
      const csr = await issuance.csr(policy, material);
      const version = newVersionId();
      const base = pending.newOperation({ name, version, policy, csr, time, input });
      if (unknown) return pending.start(vault, name, key, policy, { ...base, material });
      const certificate = await issuance.issue(policy, material, time, ca);
      const chain = [certificate, ...(ca ? [ca.certificateDer, ...ca.chainAbove] : [])];
      const issued = issuedVersion(deps.provider, { ...input, version, time, chain, material, policy });
      return records(vault).transaction(async (tx) => {
        await refuseInProgress(tx, key, name);
        await tx.writeIssued(key, name, issued);
        await tx.writePolicy(key, policy);
        const completed = pending.completed(base, time);
        await tx.writePending(key, completed);
        return accepted(completed);
      });
    });
  }

  async function importCertificate(
    vault: VaultRecord,
    name: string,
    input: CertificateAttributesInput & { value: string; password?: string; policy?: PolicyInput },
  ): Promise<CertificateView> {
    const key = objects.keyOf(name);
    validateCommonProperties({ tags: input.tags });
    const parts = decodeImportValue(input.value, input.password, input.policy?.contentType);
    if (!parts.privateKeyPkcs8) {
      throw new BadParameter(
        'The certificate to import must contain its private key (PKCS#12, or PEM with a PRIVATE KEY block).',
      );
    }
    const leaf = parts.certificates[0]!;
    if (!publicKeyMatches(parts.privateKeyPkcs8, leaf)) {
      throw new BadParameter('The private key does not match the certificate it is imported with.');
    }
    const jwk = jwkFromPkcs8(parts.privateKeyPkcs8);
    const facts = inspectCertificate(leaf);
    const time = objects.now();
    // An -HSM key type in the import's policy (or the certificate's current one) puts the key in the token.
    const wanted = input.policy?.key?.kty ?? (await records(vault).readPolicy(key))?.key.kty ?? jwk.kty;
    const placement = placementFor(vault, wanted, name);
    const material = await deps.provider.importJwk(jwk, placement);
    const hsm = placement.hsm ? '-HSM' : '';
    const keyInfo =
      material.kty === 'EC'
        ? { kty: `EC${hsm}` as CertificateKeyType, curve: material.crv }
        : { kty: `RSA${hsm}` as CertificateKeyType, keySize: deps.provider.keySize(material) };
    const detected = parts.format === 'pem' ? PEM_CONTENT_TYPE : PKCS12_CONTENT_TYPE;
    return hsmKeys.adopt(material, () =>
      writeImported(vault, key, name, input, { material, keyInfo, facts, detected, parts, time }),
    );
  }

  async function writeImported(
    vault: VaultRecord,
    key: string,
    name: string,
    input: CertificateAttributesInput & { policy?: PolicyInput },
    imported: {
      material: KeyMaterial;
      keyInfo: { kty: CertificateKeyType; keySize?: number; curve?: Curve };
      facts: ReturnType<typeof inspectCertificate>;
      detected: SecretContentType;
      parts: { certificates: Buffer[] };
      time: number;
    },
  ): Promise<CertificateView> {
    const { material, keyInfo, facts, detected, parts, time } = imported;
    return records(vault).transaction(async (tx) => {
      const previous = await tx.readPolicy(key);
      const policy = policyFromCertificate(input.policy ?? {}, previous, facts, keyInfo, detected, time);
      const version = newVersionId();
      const issued = issuedVersion(deps.provider, {
        ...input,
        version,
        time,
        chain: parts.certificates,
        material,
        policy,
      });
      const head = await tx.writeIssued(key, name, issued);
      await tx.writePolicy(key, policy);
      return { head, record: issued.certificate };
    });
  }

  /** Changes a version's attributes and tags; enabled moves the key and secret with it. */
  async function updateProperties(
    vault: VaultRecord,
    name: string,
    version: string | undefined,
    input: { enabled?: boolean; tags?: Record<string, string>; policy?: PolicyInput },
  ): Promise<CertificateView> {
    validateCommonProperties({ tags: input.tags });
    const target = await objects.resolve(vault, name, version);
    const key = objects.keyOf(name);
    const time = objects.now();
    return records(vault).transaction(async (tx) => {
      const record = await tx.certificates.version(key, target.record.version);
      if (!record)
        throw new NotFound(CERTIFICATE_KIND.notFoundCode, `Certificate ${name} was deleted meanwhile.`);
      const updated = { ...record, updated: time };
      if (input.enabled !== undefined) updated.enabled = input.enabled;
      if (input.tags !== undefined) updated.tags = input.tags;
      await tx.certificates.putVersion(key, updated);
      if (input.enabled !== undefined) {
        const enabled = input.enabled;
        const ownedKey = await tx.keys.version(key, record.version);
        if (ownedKey) await tx.keys.putVersion(key, { ...ownedKey, enabled, updated: time });
        const ownedSecret = await tx.secrets.version(key, record.version);
        if (ownedSecret) await tx.secrets.putVersion(key, { ...ownedSecret, enabled, updated: time });
      }
      if (input.policy) {
        const previous = await tx.readPolicy(key);
        await tx.writePolicy(key, {
          ...resolvePolicy(input.policy, previous, time),
          actedVersion: previous?.actedVersion,
        });
      }
      return { head: target.head, record: updated };
    });
  }

  return {
    ...objects,
    ...pending.operations,
    findPending: pending.find,
    listWithPending: pending.listWithPending,
    issuers,
    contacts: createContactService({ records }),
    create,
    importCertificate,
    updateProperties,
    /** Renewal: a new version from the stored policy (reusing the key when it says so). */
    renew: (vault: VaultRecord, name: string) => create(vault, name, {}),

    readPolicy: (vault: VaultRecord, name: string) => records(vault).readPolicy(objects.keyOf(name)),

    /** A certificate's policy; exists from the first create, even while that is pending. */
    async getPolicy(vault: VaultRecord, name: string): Promise<CertificatePolicy> {
      const policy = await records(vault).readPolicy(objects.keyOf(name));
      const live = (await unlessNotFound(objects.resolve(vault, name))) ?? (await pending.find(vault, name));
      if (!policy || !live) throw pending.notFound(name);
      return policy;
    },

    async updatePolicy(vault: VaultRecord, name: string, input: PolicyInput): Promise<CertificatePolicy> {
      const key = objects.keyOf(name);
      await this.getPolicy(vault, name);
      return records(vault).transaction(async (tx) => {
        const previous = await tx.readPolicy(key);
        const policy = {
          ...resolvePolicy(input, previous, objects.now()),
          actedVersion: previous?.actedVersion,
        };
        await tx.writePolicy(key, policy);
        return policy;
      });
    },

    /** Records that a version's lifetime actions ran, so the renewal sweep runs them once. */
    async markActed(vault: VaultRecord, name: string, version: string): Promise<void> {
      const key = objects.keyOf(name);
      await records(vault).transaction(async (tx) => {
        const policy = await tx.readPolicy(key);
        if (policy) await tx.writePolicy(key, { ...policy, actedVersion: version });
      });
    },
  };
}

export type CertificateService = ReturnType<typeof createCertificateService>;
