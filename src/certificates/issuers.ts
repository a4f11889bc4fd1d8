import { BadParameter, Forbidden, NotFound } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { unixSeconds } from '../lib/clock.js';
import { loadPage } from '../objects/lifecycle.js';
import { validateObjectName } from '../objects/validation.js';
import type { VaultRecord } from '../vaults/types.js';
import { decodeImportValue } from '../crypto/formats/index.js';
import type { IssuingCa } from './issuance.js';
import type { CertificateRecords } from './store.js';
import { type Issuer, SELF_ISSUER, UNKNOWN_ISSUER } from './types.js';
import { inspectCertificate } from '../crypto/x509/index.js';

/** The provider name of Coffer's built-in private CA: `account_id` names the CA certificate in the vault. */
export const COFFER_CA_PROVIDER = 'Coffer';

export type IssuerInput = Partial<Omit<Issuer, 'name' | 'created' | 'updated'>>;

const isCofferCa = (issuer: Pick<Issuer, 'provider'>) =>
  issuer.provider.toLowerCase() === COFFER_CA_PROVIDER.toLowerCase();

/**
 * Certificate issuers (Key Vault's `certificates/issuers`). External providers (DigiCert,
 * GlobalSign) are stored as Key Vault stores them, but Coffer runs offline and cannot reach them;
 * the `Coffer` provider is a private CA: a certificate in the same vault whose key never leaves
 * the vault signs the certificates issued through it.
 */
export function createIssuerService(deps: {
  records: (vault: VaultRecord) => CertificateRecords;
  clock: Clock;
  /** The CA certificate's latest version, key material and secret value, when it exists. */
  loadCertificate: (
    vault: VaultRecord,
    name: string,
  ) => Promise<
    | {
        cer: string;
        enabled: boolean;
        exportable: boolean;
        material: IssuingCa['material'];
        secretValue: string;
        contentType: string;
      }
    | undefined
  >;
}) {
  const keyOf = (name: string) => validateObjectName(name, 'Issuer').toLowerCase();
  const now = () => unixSeconds(deps.clock.nowMs());
  const notFound = (name: string) =>
    new NotFound(
      'CertificateIssuerNotFound',
      `Issuer not found: ${name}. Create it with a PUT to /certificates/issuers/${name}.`,
    );

  /** A Coffer CA issuer's CA, checked at every use: it may have been disabled or expired since. */
  async function loadCa(vault: VaultRecord, issuer: Issuer): Promise<IssuingCa> {
    const caName = issuer.accountId;
    if (!caName)
      throw new BadParameter(
        `Issuer ${issuer.name} uses the Coffer provider but names no CA certificate in credentials.account_id.`,
      );
    const ca = await deps.loadCertificate(vault, caName);
    if (!ca)
      throw new BadParameter(
        `The CA certificate '${caName}' of issuer ${issuer.name} does not exist in this vault: create it first (issuer Self, key usage keyCertSign, exportable false).`,
      );
    const facts = inspectCertificate(Buffer.from(ca.cer, 'base64'));
    if (!facts.isCa || !facts.keyUsage.includes('keyCertSign')) {
      throw new BadParameter(
        `Certificate '${caName}' is not a CA: its policy needs key usage keyCertSign (and cRLSign).`,
      );
    }
    if (ca.exportable) {
      throw new BadParameter(
        `Certificate '${caName}' has an exportable key; a Coffer CA's key must stay in the vault (key_props.exportable false).`,
      );
    }
    if (!ca.enabled)
      throw new Forbidden(`The CA certificate '${caName}' of issuer ${issuer.name} is disabled.`);
    if (facts.notAfter <= now())
      throw new Forbidden(`The CA certificate '${caName}' of issuer ${issuer.name} has expired.`);
    const chain = decodeImportValue(ca.secretValue, undefined, ca.contentType).certificates;
    return {
      certificateDer: Buffer.from(ca.cer, 'base64'),
      material: ca.material,
      chainAbove: chain.slice(1),
      notAfter: facts.notAfter,
    };
  }

  async function validate(vault: VaultRecord, issuer: Issuer): Promise<void> {
    if (!issuer.provider || issuer.provider.length > 100)
      throw new BadParameter('provider is required: the issuer provider name, such as Coffer.');
    if (isCofferCa(issuer)) await loadCa(vault, issuer);
  }

  async function get(vault: VaultRecord, name: string): Promise<Issuer> {
    const issuer = await deps.records(vault).readIssuer(keyOf(name));
    if (!issuer) throw notFound(name);
    return issuer;
  }

  return {
    get,

    async set(vault: VaultRecord, name: string, input: IssuerInput & { provider: string }): Promise<Issuer> {
      const key = keyOf(name);
      if ([SELF_ISSUER, UNKNOWN_ISSUER].some((reserved) => reserved.toLowerCase() === key)) {
        throw new BadParameter(`'${name}' is a reserved issuer name; choose another.`);
      }
      const time = now();
      const issuer: Issuer = { ...input, name, enabled: input.enabled ?? true, created: time, updated: time };
      await validate(vault, issuer);
      return deps.records(vault).transaction(async (tx) => {
        const previous = await tx.readIssuer(key);
        const stored = { ...issuer, name: previous?.name ?? name, created: previous?.created ?? time };
        await tx.writeIssuer(key, stored);
        return stored;
      });
    },

    async update(vault: VaultRecord, name: string, input: IssuerInput): Promise<Issuer> {
      const key = keyOf(name);
      const defined = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
      const previous = await get(vault, name);
      const updated: Issuer = { ...previous, ...defined, updated: now() };
      await validate(vault, updated);
      await deps.records(vault).transaction((tx) => tx.writeIssuer(key, updated));
      return updated;
    },

    async delete(vault: VaultRecord, name: string): Promise<Issuer> {
      const key = keyOf(name);
      return deps.records(vault).transaction(async (tx) => {
        const issuer = await tx.readIssuer(key);
        if (!issuer) throw notFound(name);
        await tx.removeIssuer(key);
        return issuer;
      });
    },

    async list(vault: VaultRecord, after: string | undefined, limit: number) {
      const records = deps.records(vault);
      const keys = await records.listIssuers(after, limit + 1);
      return loadPage(keys, limit, (key) => records.readIssuer(key));
    },

    /**
     * The CA that signs for an issuer name, or undefined for Self. Unknown never gets here.
     * An issuer whose provider Coffer cannot reach is refused before anything is written.
     */
    async signingCa(vault: VaultRecord, issuerName: string): Promise<IssuingCa | undefined> {
      if (issuerName.toLowerCase() === SELF_ISSUER.toLowerCase()) return undefined;
      const issuer = await deps.records(vault).readIssuer(keyOf(issuerName));
      if (!issuer)
        throw new BadParameter(
          `Issuer ${issuerName} does not exist in this vault. Use Self, Unknown, or create the issuer first.`,
        );
      if (!issuer.enabled) throw new Forbidden(`Issuer ${issuerName} is disabled.`);
      if (!isCofferCa(issuer)) {
        throw new BadParameter(
          `Issuer ${issuerName} uses provider ${issuer.provider}, which Coffer cannot reach: it runs offline. Use Self, a Coffer CA issuer, or Unknown and merge a certificate signed elsewhere.`,
        );
      }
      return loadCa(vault, issuer);
    },
  };
}

export type IssuerService = ReturnType<typeof createIssuerService>;
