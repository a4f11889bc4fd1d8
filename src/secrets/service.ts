import type { SecureStore } from '../barrier/secure-store.js';
import { convertSecretValue } from '../crypto/formats/index.js';
import { BadParameter, Forbidden } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import type { BackupCodec } from '../objects/backup.js';
import { createObjectLifecycle } from '../objects/lifecycle.js';
import type { ObjectChangeListener } from '../objects/types.js';
import type { VaultRecord } from '../vaults/types.js';
import type { SecretProperties, SecretVersionRecord, SecretView } from './types.js';
import { validateSecretProperties, validateSecretValue } from './validation.js';

export const SECRET_KIND = { collection: 'secrets', noun: 'Secret', notFoundCode: 'SecretNotFound' } as const;

/**
 * Key Vault's rules for secrets on top of the shared object lifecycle: a value of at most
 * 25 KB, and a disabled secret's value cannot be read.
 */
export function createSecretService(deps: {
  vaultStore: (vault: VaultRecord) => SecureStore;
  backupCodec: BackupCodec;
  clock: Clock;
  /** Hears committed changes (events). */
  changed?: ObjectChangeListener;
}) {
  const objects = createObjectLifecycle<SecretVersionRecord>({ kind: SECRET_KIND, ...deps });

  return {
    ...objects,

    async set(
      vault: VaultRecord,
      name: string,
      value: string,
      properties: SecretProperties,
    ): Promise<SecretView> {
      objects.keyOf(name);
      validateSecretValue(value);
      validateSecretProperties(properties);
      return objects.addVersion(vault, name, ({ version, time }) => ({
        ...definedOnly(properties),
        enabled: properties.enabled ?? true,
        version,
        value,
        created: time,
        updated: time,
      }));
    },

    /** `outContentType` re-encodes a certificate's secret (PKCS#12 to PEM or back), as Key Vault does. */
    async get(
      vault: VaultRecord,
      name: string,
      version?: string,
      outContentType?: string,
    ): Promise<SecretView> {
      const view = await objects.resolve(vault, name, version);
      if (!view.record.enabled)
        throw new Forbidden('Operation get is not allowed on a disabled secret.', 'SecretDisabled');
      if (!outContentType || outContentType === view.record.contentType) return view;
      if (!view.record.managed) {
        throw new BadParameter("outContentType applies only to a certificate's secret.");
      }
      const value = convertSecretValue(view.record.value, outContentType);
      return { ...view, record: { ...view.record, value, contentType: outContentType } };
    },

    async updateProperties(
      vault: VaultRecord,
      name: string,
      version: string | undefined,
      properties: SecretProperties,
    ): Promise<SecretView> {
      validateSecretProperties(properties);
      return objects.update(vault, name, version, (record) => ({ ...record, ...definedOnly(properties) }));
    },
  };
}

/** Only the properties a caller gave: an absent field leaves the stored one as it is. */
export function definedOnly<T extends object>(properties: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(properties).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

export type SecretService = ReturnType<typeof createSecretService>;
