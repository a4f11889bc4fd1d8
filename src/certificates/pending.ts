import type { KeyProvider } from '../crypto/keys/provider.js';
import { type KeyMaterial, isHsmMaterial } from '../crypto/keys/types.js';
import type { HsmKeyKeeper } from '../keys/hsm-keys.js';
import { BadParameter, Conflict, NotFound } from '../errors/index.js';
import { newVersionId } from '../lib/ids.js';
import { type ObjectLifecycle, loadPage } from '../objects/lifecycle.js';
import type { Page } from '../objects/types.js';
import { validateCommonProperties } from '../objects/validation.js';
import type { VaultRecord } from '../vaults/types.js';
import type { Issuance } from './issuance.js';
import type { CertificateRecords, CertificateTransaction } from './store.js';
import type {
  CertificatePolicy,
  CertificateVersionRecord,
  CertificateView,
  PendingCertificate,
  PendingOperation,
} from './types.js';
import { issuedVersion } from './versions.js';
import { inspectCertificate, orderChain, samePublicKey } from '../crypto/x509/index.js';

const IN_PROGRESS_DETAILS = 'Pending certificate created. Please Perform Merge to complete the request.';
const ACCEPTED_DETAILS =
  'Pending certificate created. Certificate request is in progress. Check the operation for its outcome.';
const COMPLETED_DETAILS = 'The certificate was issued.';
const CANCELLED_DETAILS = 'The creation was cancelled; the certificate was not issued.';

/** The operation once its certificate is issued: the request's key is no longer kept with it. */
const completed = (operation: PendingOperation, time: number): PendingOperation => ({
  ...operation,
  status: 'completed',
  statusDetails: COMPLETED_DETAILS,
  material: undefined,
  updated: time,
});

const sameHsmKey = (a: KeyMaterial | undefined, b: KeyMaterial | undefined) =>
  a !== undefined && b !== undefined && isHsmMaterial(a) && isHsmMaterial(b) && a.hsm.id === b.hsm.id;

/**
 * The create's own answer, as Key Vault gives it: the operation accepted and in progress, its
 * outcome reported by the next read of `/certificates/{name}/pending`. Pollers rely on it:
 * Python's returns no certificate when the create already answers `completed`, because it then
 * never polls. The certificate itself is stored before this answer is sent.
 */
export const accepted = (operation: PendingOperation): PendingOperation =>
  operation.status === 'completed'
    ? { ...operation, status: 'inProgress', statusDetails: ACCEPTED_DETAILS }
    : operation;

/** One creation at a time per certificate: a second one while the first is in progress is a 409. */
export async function refuseInProgress(
  tx: Pick<CertificateTransaction, 'readPending'>,
  key: string,
  name: string,
): Promise<void> {
  if ((await tx.readPending(key))?.status === 'inProgress') {
    throw new Conflict(
      `Certificate ${name} has a creation in progress: merge, cancel or delete it (/certificates/${name}/pending) first.`,
    );
  }
}

/**
 * Creation as a pending operation (Key Vault's `/certificates/{name}/pending`): readable,
 * cancellable and deletable, and for issuer Unknown completed by merging a certificate signed
 * elsewhere whose public key must be the pending request's.
 */
export function createPendingOperations(deps: {
  objects: ObjectLifecycle<CertificateVersionRecord>;
  records: (vault: VaultRecord) => CertificateRecords;
  issuance: Issuance;
  provider: KeyProvider;
  hsmKeys: Pick<HsmKeyKeeper, 'condemn' | 'reap'>;
  /** Tells the events module of a merged (issued) version once committed. */
  announce: (vault: VaultRecord, name: string, record: CertificateVersionRecord) => Promise<void>;
}) {
  const { objects, records } = deps;
  const notFound = (name: string) =>
    new NotFound(
      'CertificateNotFound',
      `A certificate with (name/id) ${name} was not found in this key vault.`,
    );
  const pendingNotFound = (name: string) =>
    new NotFound(
      'PendingCertificateNotFound',
      `Pending certificate not found: ${name}. There is no creation operation for it.`,
    );

  async function find(vault: VaultRecord, name: string) {
    return records(vault).readPending(objects.keyOf(name));
  }

  /**
   * Reads, changes and writes the operation in one transaction. A request key the change drops
   * (cancel, delete) is queued for destruction when it is in the HSM and no version uses it.
   */
  async function change(
    vault: VaultRecord,
    name: string,
    work: (operation: PendingOperation) => PendingOperation | undefined,
  ): Promise<PendingOperation> {
    const key = objects.keyOf(name);
    const changed = await records(vault).transaction(async (tx) => {
      const operation = await tx.readPending(key);
      if (!operation) throw pendingNotFound(name);
      const next = work(operation);
      if (next) await tx.writePending(key, { ...next, updated: objects.now() });
      else await tx.removePending(key);
      if (operation.material && !next?.material) await dropRequestKey(tx, key, operation);
      return next ?? operation;
    });
    await deps.hsmKeys.reap(vault).catch(() => undefined);
    return changed;
  }

  async function dropRequestKey(tx: CertificateTransaction, key: string, operation: PendingOperation) {
    const head = await tx.certificates.head(key);
    const latest = head && (await tx.keys.version(key, head.latestVersion));
    // With reuse_key the request's key is the latest version's: it stays.
    if (latest && sameHsmKey(latest.material, operation.material)) return;
    await deps.hsmKeys.condemn(tx.certificates, [operation]);
  }

  /**
   * The certificate listing with `includePending=true`: live certificates and, in name order
   * among them, those whose first creation is still in progress (they have no version yet).
   */
  async function listWithPending(
    vault: VaultRecord,
    after: string | undefined,
    limit: number,
  ): Promise<Page<CertificateView | PendingCertificate>> {
    const store = records(vault);
    const [heads, pending] = await Promise.all([
      store.listHeadKeys(after, limit + 1),
      store.listPendingKeys(after, limit + 1),
    ]);
    // The first limit + 1 names of the union lie within the first limit + 1 of each list.
    const keys = [...new Set([...heads, ...pending])].sort().slice(0, limit + 1);
    const live = new Set(heads);
    return loadPage(keys, limit, async (key): Promise<CertificateView | PendingCertificate | undefined> => {
      if (live.has(key)) return objects.resolve(vault, key).catch(() => undefined);
      const operation = await store.readPending(key);
      return operation?.status === 'inProgress' ? { name: operation.name ?? key, operation } : undefined;
    });
  }

  return {
    find,
    notFound,
    listWithPending,

    newOperation(args: {
      name: string;
      version: string;
      policy: CertificatePolicy;
      csr: Buffer;
      time: number;
      input: { enabled?: boolean; tags?: Record<string, string>; preserveCertOrder?: boolean };
    }): PendingOperation {
      return {
        name: args.name,
        version: args.version,
        issuer: args.policy.issuer,
        csr: args.csr.toString('base64'),
        cancellationRequested: false,
        status: 'inProgress',
        statusDetails: IN_PROGRESS_DETAILS,
        requestId: newVersionId(),
        enabled: args.input.enabled,
        tags: args.input.tags,
        preserveCertOrder: args.input.preserveCertOrder,
        created: args.time,
        updated: args.time,
      };
    },

    completed,

    /** Stores an operation that waits for a merge, with its policy. */
    async start(
      vault: VaultRecord,
      name: string,
      key: string,
      policy: CertificatePolicy,
      operation: PendingOperation,
    ): Promise<PendingOperation> {
      return records(vault).transaction(async (tx) => {
        await refuseInProgress(tx, key, name);
        // The merge will write all three objects: a name they cannot take is refused now.
        await tx.claimName(key, name);
        await tx.writePolicy(key, policy);
        await tx.writePending(key, operation);
        return operation;
      });
    },

    operations: {
      async getPending(vault: VaultRecord, name: string): Promise<PendingOperation> {
        const operation = await find(vault, name);
        if (!operation) throw pendingNotFound(name);
        return operation;
      },

      /** Cancelling drops the request's key: a cancelled operation can no longer be merged. */
      cancelPending: (vault: VaultRecord, name: string) =>
        change(vault, name, (operation) =>
          operation.status === 'inProgress'
            ? {
                ...operation,
                cancellationRequested: true,
                status: 'cancelled',
                statusDetails: CANCELLED_DETAILS,
                material: undefined,
              }
            : { ...operation, cancellationRequested: true },
        ),

      deletePending: (vault: VaultRecord, name: string) => change(vault, name, () => undefined),

      /** Completes an Unknown-issuer creation with the certificate (and chain) signed elsewhere. */
      async merge(
        vault: VaultRecord,
        name: string,
        input: { x5c: Buffer[]; enabled?: boolean; tags?: Record<string, string> },
      ): Promise<CertificateView> {
        const key = objects.keyOf(name);
        if (input.x5c.length === 0) throw new BadParameter('x5c must hold the certificate, then its chain.');
        validateCommonProperties({ tags: input.tags });
        const time = objects.now();
        const merged = await records(vault).transaction(async (tx) => {
          const operation = await tx.readPending(key);
          const policy = await tx.readPolicy(key);
          if (!operation || operation.status !== 'inProgress' || !operation.material || !policy) {
            throw pendingNotFound(name);
          }
          input.x5c.forEach((der) => inspectCertificate(der));
          const chain = operation.preserveCertOrder ? input.x5c : orderChain(input.x5c);
          const leaf = inspectCertificate(chain[0]!);
          if (!samePublicKey(leaf.publicKeySpki, deps.issuance.publicKeySpki(operation.material))) {
            throw new BadParameter(
              `The public key of the certificate to merge does not match the key of the pending request for ${name}. Sign the CSR from /certificates/${name}/pending.`,
            );
          }
          const issued = issuedVersion(deps.provider, {
            version: operation.version,
            time,
            chain,
            material: operation.material,
            policy,
            enabled: input.enabled ?? operation.enabled,
            tags: input.tags ?? operation.tags,
            preserveCertOrder: operation.preserveCertOrder,
          });
          const head = await tx.writeIssued(key, name, issued);
          await tx.writePending(key, completed(operation, time));
          return { head, record: issued.certificate };
        });
        await deps.announce(vault, merged.head.name, merged.record);
        return merged;
      },
    },
  };
}
