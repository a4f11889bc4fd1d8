import { type SecureStore, type SecureTransaction, readJson, writeJson } from '../barrier/secure-store.js';
import { Conflict } from '../errors/index.js';
import type { KeyVersionRecord } from '../keys/types.js';
import { objectReader, objectWriter } from '../objects/store.js';
import type { ObjectHead, VersionRecord } from '../objects/types.js';
import type { SecretVersionRecord } from '../secrets/types.js';
import type {
  CertificatePolicy,
  CertificateVersionRecord,
  Contact,
  Issuer,
  PendingOperation,
} from './types.js';

/** Where certificates keep what is not a version (in the vault's barrier view). */
export const certificatePaths = {
  policy: (key: string) => `certificates-policies/${key}`,
  pending: (key: string) => `certificates-pending/${key}`,
  pendingAll: 'certificates-pending/',
  issuers: 'certificates-issuers/',
  issuer: (key: string) => `certificates-issuers/${key}`,
  contacts: 'certificates-contacts',
};

/** The three versions one issuance writes: the certificate, its key and its secret. */
export interface IssuedVersion {
  certificate: CertificateVersionRecord;
  key: KeyVersionRecord;
  secret: SecretVersionRecord;
}

/**
 * Reads and writes of one vault's certificate records. Issuing writes the certificate, key and
 * secret versions and their heads in one transaction, so no reader ever sees one without the
 * others, and a key or secret of the same name that the certificate does not own is a conflict.
 */
export function certificateRecords(store: SecureStore) {
  const collections = {
    certificates: (tx: SecureTransaction) => objectWriter<CertificateVersionRecord>(tx, 'certificates'),
    keys: (tx: SecureTransaction) => objectWriter<KeyVersionRecord>(tx, 'keys'),
    secrets: (tx: SecureTransaction) => objectWriter<SecretVersionRecord>(tx, 'secrets'),
  };

  /** The name's current head; a conflict when the name is deleted, or held by a key or secret of its own. */
  async function claim<R extends VersionRecord>(
    writer: ReturnType<typeof objectWriter<R>>,
    key: string,
    name: string,
    noun: string,
  ) {
    if (await writer.deletedHead(key)) {
      throw new Conflict(
        `A deleted ${noun} named ${name} exists in this vault; recover or purge it before using the name for a certificate.`,
      );
    }
    const head = await writer.head(key);
    const latest = head && (await writer.version(key, head.latestVersion));
    if (latest && noun !== 'certificate' && !latest.managed) {
      throw new Conflict(
        `A ${noun} named ${name} already exists in this vault and is not a certificate's; choose another certificate name.`,
      );
    }
    return head;
  }

  async function writeVersion<R extends VersionRecord>(
    writer: ReturnType<typeof objectWriter<R>>,
    key: string,
    name: string,
    record: R,
    noun: string,
  ) {
    const head = await claim(writer, key, name, noun);
    await writer.putVersion(key, record);
    const newHead: ObjectHead = { name: head?.name ?? name, latestVersion: record.version };
    await writer.putHead(key, newHead);
    return newHead;
  }

  return {
    readPolicy: (key: string) => readJson<CertificatePolicy>(store, certificatePaths.policy(key)),
    readPending: (key: string) => readJson<PendingOperation>(store, certificatePaths.pending(key)),
    /** Names (lower-cased) of live certificates, and of certificates with a creation operation. */
    listHeadKeys: (after: string | undefined, limit: number) =>
      objectReader(store, 'certificates').listHeads(after, limit),
    listPendingKeys: (after: string | undefined, limit: number) =>
      store.list(certificatePaths.pendingAll, { after, limit }),
    readIssuer: (key: string) => readJson<Issuer>(store, certificatePaths.issuer(key)),
    listIssuers: (after: string | undefined, limit: number) =>
      store.list(certificatePaths.issuers, { after, limit }),
    readContacts: () => readJson<Contact[]>(store, certificatePaths.contacts),
    transaction: <T>(work: (tx: CertificateTransaction) => Promise<T>) =>
      store.transaction((tx) =>
        work({
          certificates: collections.certificates(tx),
          keys: collections.keys(tx),
          secrets: collections.secrets(tx),
          readPolicy: (key) => readJson<CertificatePolicy>(tx, certificatePaths.policy(key)),
          writePolicy: (key, policy) => writeJson(tx, certificatePaths.policy(key), policy),
          readPending: (key) => readJson<PendingOperation>(tx, certificatePaths.pending(key)),
          writePending: (key, pending) => writeJson(tx, certificatePaths.pending(key), pending),
          removePending: (key) => tx.delete(certificatePaths.pending(key)),
          readIssuer: (key) => readJson<Issuer>(tx, certificatePaths.issuer(key)),
          writeIssuer: (key, issuer) => writeJson(tx, certificatePaths.issuer(key), issuer),
          removeIssuer: (key) => tx.delete(certificatePaths.issuer(key)),
          readContacts: () => readJson<Contact[]>(tx, certificatePaths.contacts),
          writeContacts: (contacts) => writeJson(tx, certificatePaths.contacts, contacts),
          removeContacts: () => tx.delete(certificatePaths.contacts),
          async claimName(key, name) {
            await claim(collections.certificates(tx), key, name, 'certificate');
            await claim(collections.keys(tx), key, name, 'key');
            await claim(collections.secrets(tx), key, name, 'secret');
          },
          async writeIssued(key, name, issued) {
            await writeVersion(collections.keys(tx), key, name, issued.key, 'key');
            await writeVersion(collections.secrets(tx), key, name, issued.secret, 'secret');
            return writeVersion(collections.certificates(tx), key, name, issued.certificate, 'certificate');
          },
        }),
      ),
  };
}

export interface CertificateTransaction {
  certificates: ReturnType<typeof objectWriter<CertificateVersionRecord>>;
  keys: ReturnType<typeof objectWriter<KeyVersionRecord>>;
  secrets: ReturnType<typeof objectWriter<SecretVersionRecord>>;
  readPolicy(key: string): Promise<CertificatePolicy | undefined>;
  writePolicy(key: string, policy: CertificatePolicy): Promise<void>;
  readPending(key: string): Promise<PendingOperation | undefined>;
  writePending(key: string, pending: PendingOperation): Promise<void>;
  removePending(key: string): Promise<void>;
  readIssuer(key: string): Promise<Issuer | undefined>;
  writeIssuer(key: string, issuer: Issuer): Promise<void>;
  removeIssuer(key: string): Promise<void>;
  readContacts(): Promise<Contact[] | undefined>;
  writeContacts(contacts: Contact[]): Promise<void>;
  removeContacts(): Promise<void>;
  /** Refuses (409) a name a plain key or secret holds, or a deleted key or secret keeps. */
  claimName(key: string, name: string): Promise<void>;
  /** Writes the three versions and makes them latest; answers the certificate's head. */
  writeIssued(key: string, name: string, issued: IssuedVersion): Promise<ObjectHead>;
}

export type CertificateRecords = ReturnType<typeof certificateRecords>;
