import { randomBytes } from 'node:crypto';
import type pkcs11js from 'pkcs11js';
import { type Handle, type Pkcs11Api, ck, ckrOf } from '../crypto/keys/pkcs11/library.js';
import { findAll } from '../crypto/keys/pkcs11/objects.js';
import { Pkcs11Token, type TokenOptions } from '../crypto/keys/pkcs11/token.js';
import type { KeyWrapper, WrappedUnsealKey } from './types.js';

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BITS = 128;
/** Binds the blob to its purpose: the token key decrypts nothing else of Coffer's. */
const AAD = Buffer.from('coffer-unseal-key');
const REFUSED = new Set([
  ck.CKR_ENCRYPTED_DATA_INVALID,
  ck.CKR_ENCRYPTED_DATA_LEN_RANGE,
  ck.CKR_GENERAL_ERROR,
  ck.CKR_FUNCTION_FAILED,
]);

/** The token refused to open the wrapped unseal key: it is another token's, or damaged. */
export class SealKeyMismatch extends Error {
  constructor() {
    super(
      'the HSM seal key does not open the stored unseal key: the token or its seal key is not the one this data dir was initialised with',
    );
    this.name = 'SealKeyMismatch';
  }
}

/**
 * The PKCS#11 seal: the unseal key (which opens the wrapped root key, as for Shamir) is itself
 * wrapped by an AES-256 key that never leaves the token (AES-GCM in the token), so the server
 * unseals itself at start. The unseal key is still split into recovery shares at init: they
 * open the store without the token, to migrate to another seal or recover from a lost HSM.
 */
export class Pkcs11Seal implements KeyWrapper {
  readonly type = 'pkcs11' as const;

  private constructor(
    private readonly token: Pkcs11Token,
    private readonly keyLabel: string,
  ) {}

  static async open(settings: Omit<TokenOptions, 'sessions'> & { keyLabel: string }): Promise<Pkcs11Seal> {
    const token = await Pkcs11Token.open({ ...settings, sessions: 1 });
    return new Pkcs11Seal(token, settings.keyLabel);
  }

  /** The token key's label: which key wraps, never secret. */
  get description(): string {
    return `pkcs11:${this.keyLabel}`;
  }

  /** The KeyWrapper side (auto-unseal, seal-migrate): the blob below, in the stored JSON shape. */
  async wrap(unsealKey: Buffer): Promise<WrappedUnsealKey> {
    const blob = await this.wrapBlob(unsealKey);
    return {
      type: 'pkcs11',
      keyId: this.keyLabel,
      algorithm: 'CKM_AES_GCM',
      value: blob.toString('base64url'),
    };
  }

  unwrap(wrapped: WrappedUnsealKey): Promise<Buffer> {
    return this.unwrapBlob(Buffer.from(wrapped.value, 'base64url'));
  }

  /** Wraps the unseal key; creates the seal key in the token first if it does not exist yet. */
  private async wrapBlob(unsealKey: Buffer): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const sealed = await this.token.withSession(async (api, session) => {
      const key = this.#find(api, session) ?? (await this.#create(api, session));
      api.C_EncryptInit(session, gcm(iv), key);
      return api.C_EncryptAsync(session, unsealKey, Buffer.alloc(unsealKey.length + 16));
    });
    return Buffer.concat([Buffer.from([FORMAT]), iv, sealed]);
  }

  private async unwrapBlob(blob: Buffer): Promise<Buffer> {
    if (blob[0] !== FORMAT || blob.length <= 1 + IV_BYTES + TAG_BITS / 8) throw new SealKeyMismatch();
    const iv = blob.subarray(1, 1 + IV_BYTES);
    const sealed = blob.subarray(1 + IV_BYTES);
    try {
      return await this.token.withSession(async (api, session) => {
        const key = this.#find(api, session);
        if (!key) throw new SealKeyMismatch();
        api.C_DecryptInit(session, gcm(iv), key);
        return api.C_DecryptAsync(session, sealed, Buffer.alloc(sealed.length));
      });
    } catch (error) {
      // Reached only with the token answering: the key or the blob is not the right one.
      if (REFUSED.has(ckrOf(error) ?? -1)) throw new SealKeyMismatch();
      throw error;
    }
  }

  #find(api: Pkcs11Api, session: Handle): Handle | undefined {
    return findAll(api, session, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_LABEL, value: this.keyLabel },
    ])[0];
  }

  #create(api: Pkcs11Api, session: Handle): Promise<Handle> {
    return api.C_GenerateKeyAsync(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_VALUE_LEN, value: 32 },
      { type: ck.CKA_TOKEN, value: true },
      { type: ck.CKA_LABEL, value: this.keyLabel },
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_SENSITIVE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: false },
      { type: ck.CKA_ENCRYPT, value: true },
      { type: ck.CKA_DECRYPT, value: true },
      { type: ck.CKA_WRAP, value: false },
      { type: ck.CKA_UNWRAP, value: false },
      { type: ck.CKA_SIGN, value: false },
      { type: ck.CKA_VERIFY, value: false },
      { type: ck.CKA_DERIVE, value: false },
      { type: ck.CKA_MODIFIABLE, value: false },
    ]);
  }

  close(): void {
    this.token.close();
  }
}

const gcm = (iv: Buffer) => ({
  mechanism: ck.CKM_AES_GCM,
  parameter: {
    type: ck.CK_PARAMS_AES_GCM,
    iv,
    aad: AAD,
    ivBits: IV_BYTES * 8,
    tagBits: TAG_BITS,
  } satisfies pkcs11js.AesGCM as pkcs11js.IParams,
});
