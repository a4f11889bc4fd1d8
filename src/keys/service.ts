import { randomBytes } from 'node:crypto';
import { type SecureStore, readJson, writeJson } from '../barrier/secure-store.js';
import type { KeyProvider } from '../crypto/keys/provider.js';
import { BadParameter, Forbidden } from '../errors/index.js';
import { type Clock, unixSeconds } from '../lib/clock.js';
import type { BackupCodec } from '../objects/backup.js';
import { createObjectLifecycle } from '../objects/lifecycle.js';
import { definedOnly } from '../secrets/service.js';
import type { VaultRecord } from '../vaults/types.js';
import { createKeyOperations } from './key-operations.js';
import { kekReference, parseTransferBlob, transferTarget } from './byok.js';
import { createHsmKeyKeeper } from './hsm-keys.js';
import {
  baseKeyType,
  checkImportKeyOps,
  checkOperationAllowed,
  defaultKeyOps,
  isHsmType,
  keySpecFor,
  placementFor,
  validateKeyProperties,
  validateKeyType,
} from './key-rules.js';
import { type RotationPolicy, defaultRotationPolicy, validateRotationPolicy } from './rotation-policy.js';
import { parseDurationMs } from '../lib/duration.js';
import type { AzureKeyType, KeyCreateRequest, KeyProperties, KeyVersionRecord, KeyView } from './types.js';

export const KEY_KIND = { collection: 'keys', noun: 'Key', notFoundCode: 'KeyNotFound' } as const;
const policyPath = (key: string) => `keys-rotationpolicies/${key}`;

/**
 * Key Vault's rules for keys on top of the shared object lifecycle: create, import, rotate,
 * rotation policies and the cryptographic operations. Private key material is read from the
 * barrier for each operation and handed only to the key provider.
 */
export function createKeyService(deps: {
  vaultStore: (vault: VaultRecord) => SecureStore;
  backupCodec: BackupCodec;
  clock: Clock;
  provider: KeyProvider;
  /** Hears every committed change of an object (lifecycle.ts), for the caches built from it. */
  onChange?: (vault: VaultRecord, key: string) => void;
}) {
  const { provider } = deps;
  const hsmKeys = createHsmKeyKeeper({ provider, vaultStore: deps.vaultStore });
  const objects = createObjectLifecycle<KeyVersionRecord>({
    kind: KEY_KIND,
    ...deps,
    companionPaths: (key) => [policyPath(key)],
    outside: hsmKeys.outside,
  });

  function newVersion(
    fields: { version: string; time: number },
    material: KeyVersionRecord['material'],
    kty: AzureKeyType,
    properties: KeyProperties,
  ): KeyVersionRecord {
    const curve = material.kty === 'EC' ? material.crv : undefined;
    return {
      ...definedOnly(properties),
      keyOps: properties.keyOps ?? defaultKeyOps(kty),
      enabled: properties.enabled ?? true,
      kty,
      keySize: provider.keySize(material),
      curve,
      material,
      version: fields.version,
      created: fields.time,
      updated: fields.time,
    };
  }

  async function readPolicy(vault: VaultRecord, name: string): Promise<RotationPolicy | undefined> {
    return readJson<RotationPolicy>(deps.vaultStore(vault), policyPath(objects.keyOf(name)));
  }

  /** A new version like the latest one, with exp from the rotation policy's expiryTime. */
  async function rotate(vault: VaultRecord, name: string): Promise<KeyView> {
    const latest = await objects.resolve(vault, name);
    const { record } = latest;
    const material = await provider.generate(
      keySpecFor({
        kty: record.kty,
        keySize: record.material.kty === 'EC' ? undefined : record.keySize,
        curve: record.curve,
      }),
      placementFor(vault, record.kty, latest.head.name),
    );
    const expiryMs = (await readPolicy(vault, name))?.expiryTime;
    return hsmKeys.adopt(material, () =>
      objects.addVersion(vault, name, (fields, current) => {
        if (!current) throw new BadParameter(`Key ${name} no longer exists.`);
        const exp = expiryMs
          ? Math.floor((fields.time * 1000 + (parseDurationMs(expiryMs) ?? 0)) / 1000)
          : undefined;
        return newVersion(fields, material, record.kty, {
          keyOps: record.keyOps,
          tags: record.tags,
          exportable: record.exportable,
          releasePolicy: record.releasePolicy,
          exp,
        });
      }),
    );
  }

  /** BYOK: the target key unwrapped in the token with a key-exchange key of this vault. */
  async function importTransfer(vault: VaultRecord, name: string, jwk: Record<string, unknown>) {
    const target = transferTarget(jwk.kty, jwk.crv);
    const blob = parseTransferBlob(jwk.key_hsm);
    const reference = kekReference(blob.kid);
    const kek = await objects.resolve(vault, reference.name, reference.version).catch(() => {
      throw new BadParameter(
        `The key-exchange key ${blob.kid.slice(0, 200)} of the transfer blob is not a key of this vault; BYOK imports into the vault that holds the KEK.`,
      );
    });
    if (kek.record.kty !== 'RSA-HSM') {
      throw new BadParameter(
        'The key-exchange key of a BYOK import must be an RSA-HSM key with key_ops ["import"].',
      );
    }
    checkOperationAllowed(kek.record, 'import', unixSeconds(deps.clock.nowMs()));
    const material = await provider.importWrapped(
      kek.record.material,
      blob.ciphertext,
      { kty: baseKeyType(target.kty), crv: target.crv },
      placementFor(vault, target.kty, name),
    );
    return { material, kty: target.kty };
  }

  /** A client's private JWK; an -HSM type on it, or the Hsm flag, puts it in the token. */
  async function importPlain(
    vault: VaultRecord,
    name: string,
    jwk: Record<string, unknown>,
    hsmFlag: boolean,
  ) {
    const requestedType = typeof jwk.kty === 'string' ? jwk.kty : '';
    const hsmType = isHsmType(requestedType);
    const jwkType = hsmType ? requestedType.slice(0, -'-HSM'.length) : requestedType;
    const placement = placementFor(vault, hsmFlag || hsmType ? `${jwkType}-HSM` : jwkType, name);
    const material = await provider.importJwk({ ...jwk, kty: jwkType }, placement);
    return { material, kty: (placement.hsm ? `${material.kty}-HSM` : material.kty) as AzureKeyType };
  }

  return {
    ...objects,
    ...createKeyOperations({ objects, provider, clock: deps.clock }),
    rotate,

    async create(vault: VaultRecord, name: string, request: KeyCreateRequest): Promise<KeyView> {
      objects.keyOf(name);
      const kty = validateKeyType(request.kty);
      validateKeyProperties(request);
      checkImportKeyOps(kty, request.keyOps ?? defaultKeyOps(kty));
      // Generate outside the transaction: an RSA-4096 key takes long enough to stall other writes.
      const material = await provider.generate(
        keySpecFor({ ...request, kty }),
        placementFor(vault, kty, name),
      );
      return hsmKeys.adopt(material, () =>
        objects.addVersion(vault, name, (fields) => newVersion(fields, material, kty, request)),
      );
    },

    async importKey(
      vault: VaultRecord,
      name: string,
      jwk: Record<string, unknown>,
      properties: KeyProperties,
      hsm: boolean,
    ) {
      objects.keyOf(name);
      validateKeyProperties(properties);
      const requestedOps = Array.isArray(jwk.key_ops) ? (jwk.key_ops as KeyProperties['keyOps']) : undefined;
      const withOps = { ...properties, keyOps: properties.keyOps ?? requestedOps };
      validateKeyProperties(withOps);
      const { material, kty } =
        jwk.key_hsm !== undefined && jwk.key_hsm !== null
          ? await importTransfer(vault, name, jwk)
          : await importPlain(vault, name, jwk, hsm);
      checkImportKeyOps(kty, withOps.keyOps ?? defaultKeyOps(kty));
      return hsmKeys.adopt(material, () =>
        objects.addVersion(vault, name, (fields) => newVersion(fields, material, kty, withOps)),
      );
    },

    async updateProperties(
      vault: VaultRecord,
      name: string,
      version: string | undefined,
      properties: KeyProperties,
    ) {
      validateKeyProperties(properties);
      return objects.update(vault, name, version, (record) => {
        if (properties.keyOps) checkImportKeyOps(record.kty, properties.keyOps, record.keyOps);
        return { ...record, ...definedOnly(properties) };
      });
    },

    /** A key's public part; a disabled key answers 403 as Key Vault does. */
    async get(vault: VaultRecord, name: string, version?: string): Promise<KeyView> {
      const view = await objects.resolve(vault, name, version);
      if (!view.record.enabled)
        throw new Forbidden('Operation get is not allowed on a disabled key.', 'KeyDisabled');
      return view;
    },

    publicKey: (record: KeyVersionRecord) => provider.publicJwk(record.material),
    baseKeyType,

    async getRotationPolicy(vault: VaultRecord, name: string) {
      await objects.resolve(vault, name);
      return (await readPolicy(vault, name)) ?? defaultRotationPolicy();
    },

    async setRotationPolicy(
      vault: VaultRecord,
      name: string,
      input: Parameters<typeof validateRotationPolicy>[0],
    ) {
      const { record } = await objects.resolve(vault, name);
      objects.refuseManaged(record, name, 'renew');
      const validated = validateRotationPolicy(input);
      const store = deps.vaultStore(vault);
      return store.transaction(async (tx) => {
        const path = policyPath(objects.keyOf(name));
        const previous = await readJson<RotationPolicy>(tx, path);
        const time = objects.now();
        const policy: RotationPolicy = { ...validated, created: previous?.created ?? time, updated: time };
        // notifiedVersion is dropped on purpose: a new policy may notify again.
        await writeJson(tx, path, policy);
        return policy;
      });
    },

    readPolicy,

    async markNotified(vault: VaultRecord, name: string, version: string): Promise<void> {
      const store = deps.vaultStore(vault);
      await store.transaction(async (tx) => {
        const path = policyPath(objects.keyOf(name));
        const policy = await readJson<RotationPolicy>(tx, path);
        if (policy) await writeJson(tx, path, { ...policy, notifiedVersion: version });
      });
    },

    /** Destroys the token objects of purged HSM keys that are still queued (the periodic sweep). */
    reapHsmKeys: (vault: VaultRecord) => hsmKeys.reap(vault),
    /** Before a vault's data is erased: its HSM keys' token objects go too. */
    releaseHsmKeys: (vault: VaultRecord) => hsmKeys.release(vault),

    randomBytes(count: number): Buffer {
      if (!Number.isInteger(count) || count < 1 || count > 128)
        throw new BadParameter('count must be a whole number from 1 to 128.');
      return randomBytes(count);
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
