import { BadParameter } from '../../../errors/index.js';
import {
  type AesEngine,
  UNWRAP_FAILED,
  decryptWith,
  encryptWith,
  rejectSymmetricInputs,
  unwrapWith,
  wrapWith,
} from '../aes.js';
import {
  type AesAlgorithm,
  type CipherAlgorithm,
  type KeyAlgorithm,
  type RsaCipherAlgorithm,
  cipherAlgorithm,
  signatureAlgorithm,
} from '../algorithms.js';
import { curveParams } from '../ec-curves.js';
import { decodeStored } from '../jwk.js';
import { checkCurve, checkDigest, checkOctSize, keyTypeMismatch } from '../operation-checks.js';
import type { DecryptOptions, EncryptOptions, EncryptResult } from '../provider.js';
import { DECRYPTION_FAILED, DIGEST_INFO_PREFIX, checkRsaCiphertext, checkRsaPlaintext } from '../rsa.js';
import type { HsmKeyMaterial } from '../types.js';
import { BAD_INPUT, NOT_SUPPORTED } from './errors.js';
import { type Handle, type Pkcs11Api, ck, ckrOf } from './library.js';
import {
  KEY_WRAP,
  aesMechanismType,
  cbcMechanism,
  gcmMechanism,
  notSupportedByToken,
  requireMechanism,
  rsaCipherMechanism,
  signMechanism,
} from './mechanisms.js';
import type { KeyObjects } from './objects.js';
import { sessionSecret } from './templates.js';
import type { Pkcs11Token } from './token.js';

const SIGNATURE_REFUSED = new Set([ck.CKR_SIGNATURE_INVALID, ck.CKR_SIGNATURE_LEN_RANGE]);
/** A healthy token that fails on a caller's ciphertext sometimes says only this (SoftHSM's AES key wrap with padding). */
const FAILED_ON_INPUT = new Set([...BAD_INPUT, ck.CKR_GENERAL_ERROR, ck.CKR_FUNCTION_FAILED]);

/**
 * Key Vault's operations run inside the token on keys that never leave it: sign, verify,
 * encrypt, decrypt, wrap and unwrap. The caller's input is checked first with the same rules
 * as the software provider (same 400s); the token then does the arithmetic.
 */
export class TokenOperations {
  constructor(
    private readonly token: Pkcs11Token,
    private readonly objects: KeyObjects,
  ) {}

  /** What sign and verify give the token: RS* signs DigestInfo, PS* and ES* the digest itself. */
  #signing(material: HsmKeyMaterial, name: string, digest: Buffer) {
    const alg = signatureAlgorithm(name);
    checkDigest(alg, digest);
    const mechanism = signMechanism(alg);
    this.#check(material, alg, mechanism.mechanism);
    const data = alg.scheme === 'rsa-pkcs1' ? Buffer.concat([DIGEST_INFO_PREFIX[alg.hash], digest]) : digest;
    return { alg, mechanism, data };
  }

  async sign(material: HsmKeyMaterial, name: string, digest: Buffer): Promise<Buffer> {
    const { alg, mechanism, data } = this.#signing(material, name, digest);
    return this.#run(alg, material.hsm.id, 'private', async (api, session, key) => {
      api.C_SignInit(session, mechanism, key);
      return api.C_SignAsync(session, data, Buffer.alloc(signatureBytes(material)));
    });
  }

  async verify(material: HsmKeyMaterial, name: string, digest: Buffer, signature: Buffer): Promise<boolean> {
    const { alg, mechanism, data } = this.#signing(material, name, digest);
    return this.#run(alg, material.hsm.id, 'public', async (api, session, key) => {
      api.C_VerifyInit(session, mechanism, key);
      try {
        return await api.C_VerifyAsync(session, data, signature);
      } catch (error) {
        // A signature that does not verify is an answer, not an error (the operation is over).
        if (SIGNATURE_REFUSED.has(ckrOf(error) ?? -1)) return false;
        throw error;
      }
    });
  }

  async encrypt(
    material: HsmKeyMaterial,
    name: string,
    plaintext: Buffer,
    options: EncryptOptions,
  ): Promise<EncryptResult> {
    const alg = cipherAlgorithm('encrypt', name);
    if (alg.keyType !== 'RSA') return encryptWith(this.#aesEngine(material, alg), alg, plaintext, options);
    rejectSymmetricInputs(alg, options);
    return { result: await this.#rsaEncrypt(material, alg, plaintext) };
  }

  async decrypt(
    material: HsmKeyMaterial,
    name: string,
    ciphertext: Buffer,
    options: DecryptOptions,
  ): Promise<Buffer> {
    const alg = cipherAlgorithm('encrypt', name);
    if (alg.keyType !== 'RSA') return decryptWith(this.#aesEngine(material, alg), alg, ciphertext, options);
    rejectSymmetricInputs(alg, options);
    return this.#rsaDecrypt(material, alg, ciphertext);
  }

  async wrapKey(material: HsmKeyMaterial, name: string, key: Buffer): Promise<Buffer> {
    const alg = cipherAlgorithm('wrap', name);
    if (alg.keyType !== 'RSA') return wrapWith(this.#aesEngine(material, alg), alg, key);
    return this.#rsaEncrypt(material, alg, key);
  }

  async unwrapKey(material: HsmKeyMaterial, name: string, wrapped: Buffer): Promise<Buffer> {
    const alg = cipherAlgorithm('wrap', name);
    if (alg.keyType !== 'RSA') return unwrapWith(this.#aesEngine(material, alg), alg, wrapped);
    return this.#rsaDecrypt(material, alg, wrapped);
  }

  /** The algorithm must fit the key (type, curve, AES size) and the token must offer its mechanism. */
  #check(material: HsmKeyMaterial, alg: KeyAlgorithm, mechanism: number): void {
    if (material.kty !== alg.keyType) throw keyTypeMismatch(alg, material.kty);
    if (alg.kind === 'signature' && material.kty === 'EC') checkCurve(alg, material.crv);
    if (material.kty === 'oct') checkOctSize(alg, material.bits);
    requireMechanism(this.token, mechanism, alg);
  }

  async #rsaEncrypt(material: HsmKeyMaterial, alg: RsaCipherAlgorithm, plaintext: Buffer): Promise<Buffer> {
    const mechanism = rsaCipherMechanism(alg);
    this.#check(material, alg, mechanism.mechanism);
    const size = modulusBytes(material);
    checkRsaPlaintext(alg, size, plaintext);
    return this.#run(alg, material.hsm.id, 'public', async (api, session, key) => {
      api.C_EncryptInit(session, mechanism, key);
      return api.C_EncryptAsync(session, plaintext, Buffer.alloc(size));
    });
  }

  async #rsaDecrypt(material: HsmKeyMaterial, alg: RsaCipherAlgorithm, ciphertext: Buffer): Promise<Buffer> {
    const mechanism = rsaCipherMechanism(alg);
    this.#check(material, alg, mechanism.mechanism);
    const size = modulusBytes(material);
    checkRsaCiphertext(alg, size, ciphertext);
    const plaintext = await this.#run(alg, material.hsm.id, 'private', async (api, session, key) => {
      api.C_DecryptInit(session, mechanism, key);
      return inputFailure(() => api.C_DecryptAsync(session, ciphertext, Buffer.alloc(size)));
    });
    if (plaintext === undefined) throw new BadParameter(DECRYPTION_FAILED);
    return plaintext;
  }

  /** AES in the token over the oct key's secret object; the checks are aes.ts's own. */
  #aesEngine(material: HsmKeyMaterial, alg: AesAlgorithm): AesEngine {
    this.#check(material, alg, aesMechanismType(alg));
    const onKey = <T>(work: (api: Pkcs11Api, session: Handle, key: Handle) => Promise<T>) =>
      this.#run(alg, material.hsm.id, 'secret', work);
    const unwrapping = <T>(work: (api: Pkcs11Api, session: Handle, key: Handle) => Promise<T>) =>
      this.#run(alg, material.hsm.id, 'secret', work, UNWRAP_FAILED);
    return {
      gcmEncrypt: (_alg, iv, aad, plaintext) =>
        onKey(async (api, session, key) => {
          api.C_EncryptInit(session, gcmMechanism(iv, aad), key);
          const out = await api.C_EncryptAsync(session, plaintext, Buffer.alloc(plaintext.length + 16));
          return { result: out.subarray(0, out.length - 16), tag: out.subarray(out.length - 16) };
        }),
      gcmDecrypt: (_alg, iv, aad, tag, ciphertext) =>
        onKey(async (api, session, key) => {
          api.C_DecryptInit(session, gcmMechanism(iv, aad), key);
          const sealed = Buffer.concat([ciphertext, tag]);
          return inputFailure(() => api.C_DecryptAsync(session, sealed, Buffer.alloc(sealed.length)));
        }),
      cbcEncrypt: (_alg, iv, padded, plaintext) =>
        onKey(async (api, session, key) => {
          api.C_EncryptInit(session, cbcMechanism(iv, padded), key);
          return api.C_EncryptAsync(session, plaintext, Buffer.alloc(plaintext.length + 16));
        }),
      cbcDecrypt: (_alg, iv, padded, ciphertext) =>
        onKey(async (api, session, key) => {
          api.C_DecryptInit(session, cbcMechanism(iv, padded), key);
          return inputFailure(() => api.C_DecryptAsync(session, ciphertext, Buffer.alloc(ciphertext.length)));
        }),
      // The token wraps only key objects: the caller's bytes become a session object for the call.
      wrap: (_alg, keyToWrap) =>
        onKey(async (api, session, key) => {
          const temporary = api.C_CreateObject(session, callerSecret({ value: keyToWrap }));
          try {
            return await api.C_WrapKeyAsync(
              session,
              KEY_WRAP,
              key,
              temporary,
              Buffer.alloc(keyToWrap.length + 8),
            );
          } finally {
            api.C_DestroyObject(session, temporary);
          }
        }),
      unwrap: (_alg, wrapped) =>
        unwrapping(async (api, session, key) => {
          const temporary = await inputFailure(() =>
            api.C_UnwrapKeyAsync(session, KEY_WRAP, key, wrapped, callerSecret({})),
          );
          if (temporary === undefined) return undefined;
          try {
            return api.C_GetAttributeValue(session, temporary, [{ type: ck.CKA_VALUE }])[0]!.value as Buffer;
          } finally {
            api.C_DestroyObject(session, temporary);
          }
        }),
    };
  }

  /** One operation on one object of the key; a mechanism or parameter the token refuses is a 400. */
  async #run<T>(
    alg: KeyAlgorithm | CipherAlgorithm,
    id: string,
    role: 'private' | 'public' | 'secret',
    work: (api: Pkcs11Api, session: Handle, key: Handle) => Promise<T>,
    inputFailed = DECRYPTION_FAILED,
  ): Promise<T> {
    try {
      return await this.objects.withObject(id, role, work);
    } catch (error) {
      const code = ckrOf(error);
      if (code !== undefined && NOT_SUPPORTED.has(code)) throw notSupportedByToken(alg);
      // Reached only once the token answered a health check: the input was at fault, not the token.
      if (code !== undefined && FAILED_ON_INPUT.has(code)) throw new BadParameter(inputFailed);
      throw error;
    }
  }
}

/** A decryption or unwrap the token refuses because of the caller's data: undefined, not an error. */
async function inputFailure<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (BAD_INPUT.has(ckrOf(error) ?? -1)) return undefined;
    throw error;
  }
}

/** A session object holding a caller's key bytes (to wrap), or receiving them (unwrapped). */
function callerSecret({ value }: { value?: Buffer }) {
  return sessionSecret([
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
    // These bytes are the caller's own: they go back to the caller, so they may be read out.
    { type: ck.CKA_SENSITIVE, value: false },
    { type: ck.CKA_EXTRACTABLE, value: true },
    ...(value ? [{ type: ck.CKA_VALUE, value }] : []),
  ]);
}

function modulusBytes(material: HsmKeyMaterial): number {
  if (material.kty !== 'RSA') return 0;
  return decodeStored(material.n).length;
}

function signatureBytes(material: HsmKeyMaterial): number {
  if (material.kty === 'EC') return 2 * curveParams(material.crv)!.bytes;
  return modulusBytes(material);
}
