import { BadParameter, NotSupported } from '../../../errors/index.js';
import { toBase64Url } from '../../../lib/base64.js';
import { decodeStored } from '../jwk.js';
import type { TransferTarget } from '../provider.js';
import type { HsmKeyMaterial } from '../types.js';
import { BAD_INPUT, NOT_SUPPORTED, hsmFull } from './errors.js';
import { type Handle, type Pkcs11Api, type Template, ck, ckrOf } from './library.js';
import { type KeyObjects, attributes, findAll } from './objects.js';
import {
  type ExtractPolicy,
  type ObjectNames,
  classAndType,
  keyTypeOf,
  privateKeyTemplate,
  secretKeyTemplate,
  sessionSecret,
} from './templates.js';
import type { Pkcs11Token } from './token.js';

/** AES key wrap with padding (RFC 5649): what Azure's BYOK blobs and Coffer's HSM backups use. */
const KEY_WRAP_PAD = { mechanism: ck.CKM_AES_KEY_WRAP_PAD };
/** RSA-OAEP with SHA-1, MGF1-SHA-1 and no label: the first half of CKM_RSA_AES_KEY_WRAP, as Azure's spec says. */
const OAEP_SHA1 = {
  mechanism: ck.CKM_RSA_PKCS_OAEP,
  parameter: { type: ck.CK_PARAMS_RSA_OAEP, hashAlg: ck.CKM_SHA_1, mgf: ck.CKG_MGF1_SHA1, source: 1 },
};
/** Ample room for a wrapped RSA-4096 PKCS#8 (about 2.4 kB). */
const WRAPPED_MAX_BYTES = 8192;
/** Failures a healthy token gives for a wrapped key it cannot open (SoftHSM says only CKR_GENERAL_ERROR). */
const CANNOT_UNWRAP = new Set([...BAD_INPUT, ck.CKR_GENERAL_ERROR]);
/** A token with no room for the new object (SoftHSM answers CKR_FUNCTION_FAILED when its disk is full). */
const NO_ROOM = new Set([ck.CKR_DEVICE_MEMORY, ck.CKR_FUNCTION_FAILED]);

/**
 * Keys in and out of the token in wrapped form only: Key Vault backups of HSM keys (wrapped under
 * the installation's CKA_TRUSTED backup key) and BYOK imports (unwrapped with a key-exchange
 * key). The unwrapped key lands directly in a token object; its bytes never reach this process.
 */
export class KeyTransfer {
  #backupKey: Handle | undefined;
  #backupKeyGeneration = -1;

  constructor(
    private readonly token: Pkcs11Token,
    private readonly objects: KeyObjects,
    private readonly backupKeyLabel: string | undefined,
  ) {}

  /** 'trusted-wrap' when the token holds the backup key: new keys may then leave it wrapped under that key only. */
  get policy(): ExtractPolicy {
    return this.backupKeyLabel === undefined ? 'never' : 'trusted-wrap';
  }

  /** Checks, once at start-up, that the configured backup key exists and is trusted for wrapping. */
  async checkBackupKey(): Promise<string | undefined> {
    if (this.backupKeyLabel === undefined) return undefined;
    return this.token.withSession((api, session) => {
      const key = this.#findBackupKey(api, session);
      if (!key) return `no secret key labelled '${this.backupKeyLabel}' is in the token`;
      const [trusted, wrap, unwrap] = attributes(api, session, key, [
        ck.CKA_TRUSTED,
        ck.CKA_WRAP,
        ck.CKA_UNWRAP,
      ]);
      if (trusted?.[0] !== 1) return `the key '${this.backupKeyLabel}' is not CKA_TRUSTED`;
      if (wrap?.[0] !== 1 || unwrap?.[0] !== 1)
        return `the key '${this.backupKeyLabel}' cannot wrap and unwrap`;
      return undefined;
    });
  }

  #findBackupKey(api: Pkcs11Api, session: Handle): Handle | undefined {
    if (this.#backupKeyGeneration === this.token.generation && this.#backupKey) return this.#backupKey;
    const [key] = findAll(api, session, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_LABEL, value: this.backupKeyLabel! },
    ]);
    this.#backupKey = key;
    this.#backupKeyGeneration = this.token.generation;
    return key;
  }

  /** The key's private or secret object wrapped under the backup key, for a backup blob. */
  async wrapForBackup(material: HsmKeyMaterial): Promise<string> {
    if (this.backupKeyLabel === undefined) {
      throw new NotSupported(
        'This HSM key cannot be backed up: the server keeps HSM keys never-extractable because no HSM backup key is configured (pkcs11.backupKeyLabel). See docs/hsm.md.',
      );
    }
    const role = material.kty === 'oct' ? 'secret' : 'private';
    try {
      const wrapped = await this.objects.withObject(material.hsm.id, role, async (api, session, key) =>
        api.C_WrapKeyAsync(
          session,
          KEY_WRAP_PAD,
          this.#requireBackupKey(api, session),
          key,
          Buffer.alloc(WRAPPED_MAX_BYTES),
        ),
      );
      return toBase64Url(wrapped);
    } catch (error) {
      const code = ckrOf(error);
      if (code === ck.CKR_KEY_UNEXTRACTABLE || code === ck.CKR_KEY_NOT_WRAPPABLE) {
        throw new NotSupported(
          'This HSM key cannot be backed up: it was created never-extractable, before an HSM backup key was configured.',
        );
      }
      throw error;
    }
  }

  #requireBackupKey(api: Pkcs11Api, session: Handle): Handle {
    const key = this.#findBackupKey(api, session);
    if (!key) throw cannotRestore();
    return key;
  }

  /** Unwraps a backed-up key into a new token object named `names`. */
  async unwrapBackup(material: HsmKeyMaterial, names: ObjectNames): Promise<void> {
    if (this.backupKeyLabel === undefined || !material.hsm.wrapped) throw cannotRestore();
    const wrapped = decodeStored(material.hsm.wrapped);
    try {
      await this.token.withSession((api, session) =>
        api.C_UnwrapKeyAsync(
          session,
          KEY_WRAP_PAD,
          this.#requireBackupKey(api, session),
          wrapped,
          targetTemplate(material.kty, names, this.policy, false),
        ),
      );
    } catch (error) {
      if (NO_ROOM.has(ckrOf(error) ?? -1)) throw hsmFull();
      if (CANNOT_UNWRAP.has(ckrOf(error) ?? -1)) throw cannotRestore();
      throw error;
    }
  }

  /**
   * BYOK: `ciphertext` is RSA-OAEP(SHA-1) of an ephemeral AES key under the KEK, followed by the
   * target key (PKCS#8, or raw bytes for oct) under AES key wrap with padding. Both unwraps run
   * in the token; the AES key is a session object destroyed at once.
   */
  async unwrapTransfer(
    kek: HsmKeyMaterial,
    ciphertext: Buffer,
    target: TransferTarget,
    names: ObjectNames,
  ): Promise<void> {
    if (kek.kty !== 'RSA')
      throw new BadParameter('The key-exchange key of a BYOK import must be an RSA-HSM key.');
    const modulusBytes = decodeStored(kek.n).length;
    if (ciphertext.length < modulusBytes + 16) {
      throw new BadParameter(
        `The key transfer blob's ciphertext is too short for this ${modulusBytes * 8}-bit key-exchange key: it must hold the RSA-OAEP-wrapped AES key (${modulusBytes} bytes), then the wrapped target key.`,
      );
    }
    // An EC key arrives without its public point; deriving once from G recovers it (public-point.ts).
    const template = targetTemplate(target.kty, names, this.policy, target.kty === 'EC');
    try {
      await this.objects.withObject(kek.hsm.id, 'private', async (api, session, kekHandle) => {
        const transferKey = await api.C_UnwrapKeyAsync(
          session,
          OAEP_SHA1,
          kekHandle,
          ciphertext.subarray(0, modulusBytes),
          sessionSecret([
            ...classAndType(ck.CKO_SECRET_KEY, ck.CKK_AES),
            { type: ck.CKA_UNWRAP, value: true },
            { type: ck.CKA_SENSITIVE, value: true },
            { type: ck.CKA_EXTRACTABLE, value: false },
          ]),
        );
        try {
          await api.C_UnwrapKeyAsync(
            session,
            KEY_WRAP_PAD,
            transferKey,
            ciphertext.subarray(modulusBytes),
            template,
          );
        } finally {
          api.C_DestroyObject(session, transferKey);
        }
      });
    } catch (error) {
      const code = ckrOf(error);
      if (code !== undefined && NO_ROOM.has(code)) throw hsmFull();
      if (code !== undefined && (CANNOT_UNWRAP.has(code) || NOT_SUPPORTED.has(code))) {
        throw new BadParameter(
          `The key transfer blob could not be unwrapped into an ${target.kty} key with this key-exchange key: it was wrapped for another key, holds another kind of key, or is damaged.`,
        );
      }
      throw error;
    }
  }
}

/** The template of a key arriving wrapped: a token object like a generated one. */
function targetTemplate(
  kty: HsmKeyMaterial['kty'],
  names: ObjectNames,
  policy: ExtractPolicy,
  derive: boolean,
): Template {
  if (kty === 'oct')
    return [...classAndType(ck.CKO_SECRET_KEY, ck.CKK_AES), ...secretKeyTemplate(names, policy)];
  const template = [
    ...classAndType(ck.CKO_PRIVATE_KEY, keyTypeOf(kty)),
    ...privateKeyTemplate(kty, names, policy),
  ];
  return derive ? [...template, { type: ck.CKA_DERIVE, value: true }] : template;
}

function cannotRestore(): BadParameter {
  return new BadParameter(
    'The backup holds an HSM key this server cannot unwrap: it was made by an installation whose HSM backup key this token does not hold (Key Vault restores HSM keys only within the same security domain).',
  );
}
