import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { parseCertificateCredential } from './certificate-credential.js';
import { parseFederatedCredential } from './federated-credential.js';
import type { PrincipalService } from './principal-service.js';
import type { CertificateCredentialRecord, FederatedCredentialRecord, PrincipalRecord } from './types.js';

/** As Entra: a bounded number of credentials of each kind per application. */
const MAX_CERTIFICATES = 20;
const MAX_FEDERATED = 20;

/**
 * Certificate and federated credentials of service principals. Removing one takes effect for
 * new tokens at once and, through the token's credential id, for issued tokens within
 * PRINCIPAL_CACHE_MS.
 */
export function createPrincipalCredentials(deps: { principals: PrincipalService; clock: Clock }) {
  const { principals } = deps;
  const now = () => new Date(deps.clock.nowMs()).toISOString();

  return {
    async listCertificates(id: string): Promise<CertificateCredentialRecord[]> {
      return (await principals.find(id)).certificates ?? [];
    },

    async addCertificate(id: string, input: { certificate?: unknown; displayName?: unknown }) {
      const record = await principals.find(id);
      const certificates = record.certificates ?? [];
      const credential = parseCertificateCredential(input.certificate, input.displayName, now());
      if (certificates.some((c) => c.x5tS256 === credential.x5tS256)) {
        throw new Conflict(
          'This certificate is already registered on the principal.',
          'CredentialAlreadyExists',
        );
      }
      if (certificates.length >= MAX_CERTIFICATES) {
        throw new BadParameter(`A principal has at most ${MAX_CERTIFICATES} certificate credentials.`);
      }
      await principals.save({ ...record, certificates: [...certificates, credential] });
      return credential;
    },

    /** `credentialId`: the credential's id, or its SHA-1 or SHA-256 thumbprint in hex. */
    async removeCertificate(id: string, credentialId: string): Promise<void> {
      const record = await principals.find(id);
      const certificates = record.certificates ?? [];
      const wanted = credentialId.toLowerCase();
      const match = certificates.find(
        (c) => c.id === wanted || hex(c.x5t) === wanted || hex(c.x5tS256) === wanted,
      );
      if (!match) throw credentialNotFound(record, credentialId);
      await principals.save({ ...record, certificates: certificates.filter((c) => c !== match) });
    },

    async listFederated(id: string): Promise<FederatedCredentialRecord[]> {
      return (await principals.find(id)).federatedCredentials ?? [];
    },

    async addFederated(id: string, input: Record<string, unknown>): Promise<FederatedCredentialRecord> {
      const record = await principals.find(id);
      const existing = record.federatedCredentials ?? [];
      const credential = parseFederatedCredential(input, now());
      if (existing.some((c) => c.name === credential.name)) {
        throw new Conflict(
          `A federated credential named '${credential.name}' already exists.`,
          'CredentialAlreadyExists',
        );
      }
      if (existing.some((c) => c.issuer === credential.issuer && c.subject === credential.subject)) {
        throw new Conflict(
          'A federated credential for this issuer and subject already exists.',
          'CredentialAlreadyExists',
        );
      }
      if (existing.length >= MAX_FEDERATED) {
        throw new BadParameter(`A principal has at most ${MAX_FEDERATED} federated credentials.`);
      }
      await principals.save({ ...record, federatedCredentials: [...existing, credential] });
      return credential;
    },

    /** `credentialId`: the federated credential's id or name. */
    async removeFederated(id: string, credentialId: string): Promise<void> {
      const record = await principals.find(id);
      const existing = record.federatedCredentials ?? [];
      const match = existing.find((c) => c.id === credentialId.toLowerCase() || c.name === credentialId);
      if (!match) throw credentialNotFound(record, credentialId);
      await principals.save({ ...record, federatedCredentials: existing.filter((c) => c !== match) });
    },
  };
}

const hex = (base64url: string) => Buffer.from(base64url, 'base64url').toString('hex');

function credentialNotFound(record: PrincipalRecord, credentialId: string): NotFound {
  return new NotFound(
    'CredentialNotFound',
    `The principal ${record.objectId} has no credential '${credentialId.slice(0, 200)}'.`,
  );
}

export type PrincipalCredentials = ReturnType<typeof createPrincipalCredentials>;
