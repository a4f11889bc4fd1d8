import { NotSupported } from '../../../errors/index.js';
import type {
  AesAlgorithm,
  HashName,
  KeyAlgorithm,
  RsaCipherAlgorithm,
  SignatureAlgorithm,
} from '../algorithms.js';
import type pkcs11js from 'pkcs11js';
import { type Mechanism, ck } from './library.js';
import type { Pkcs11Token } from './token.js';

/**
 * Key Vault's algorithm names as PKCS#11 mechanisms. Signatures take the client's digest as it
 * is: CKM_RSA_PKCS over DigestInfo (RS*), CKM_RSA_PKCS_PSS with salt = hash length (PS*, as
 * Azure signs), CKM_ECDSA giving r||s (ES*), never a CKM_SHA*_ mechanism that would hash again.
 */

const HASH: Record<HashName | 'sha1', number> = {
  sha1: ck.CKM_SHA_1,
  sha256: ck.CKM_SHA256,
  sha384: ck.CKM_SHA384,
  sha512: ck.CKM_SHA512,
};
const MGF1: Record<HashName | 'sha1', number> = {
  sha1: ck.CKG_MGF1_SHA1,
  sha256: ck.CKG_MGF1_SHA256,
  sha384: ck.CKG_MGF1_SHA384,
  sha512: ck.CKG_MGF1_SHA512,
};
/** CKZ_DATA_SPECIFIED: the OAEP label source (an empty label); pkcs11js lacks the constant. */
const CKZ_DATA_SPECIFIED = 1;
const GCM_IV_BITS = 96;
const GCM_TAG_BITS = 128;

export function signMechanism(alg: SignatureAlgorithm): Mechanism {
  switch (alg.scheme) {
    case 'rsa-pkcs1':
      return { mechanism: ck.CKM_RSA_PKCS };
    case 'rsa-pss':
      return {
        mechanism: ck.CKM_RSA_PKCS_PSS,
        parameter: {
          type: ck.CK_PARAMS_RSA_PSS,
          hashAlg: HASH[alg.hash],
          mgf: MGF1[alg.hash],
          saltLen: alg.digestBytes,
        } satisfies pkcs11js.RsaPSS as pkcs11js.IParams,
      };
    case 'ecdsa':
      return { mechanism: ck.CKM_ECDSA };
  }
}

export function rsaCipherMechanism(alg: RsaCipherAlgorithm): Mechanism {
  if (alg.scheme === 'rsa-pkcs1') return { mechanism: ck.CKM_RSA_PKCS };
  return {
    mechanism: ck.CKM_RSA_PKCS_OAEP,
    parameter: {
      type: ck.CK_PARAMS_RSA_OAEP,
      hashAlg: HASH[alg.oaepHash],
      mgf: MGF1[alg.oaepHash],
      source: CKZ_DATA_SPECIFIED,
    } satisfies pkcs11js.RsaOAEP as pkcs11js.IParams,
  };
}

export const gcmMechanism = (iv: Buffer, aad: Buffer | undefined): Mechanism => ({
  mechanism: ck.CKM_AES_GCM,
  parameter: {
    type: ck.CK_PARAMS_AES_GCM,
    iv,
    aad,
    ivBits: GCM_IV_BITS,
    tagBits: GCM_TAG_BITS,
  } satisfies pkcs11js.AesGCM as pkcs11js.IParams,
});

export const cbcMechanism = (iv: Buffer, padded: boolean): Mechanism => ({
  mechanism: padded ? ck.CKM_AES_CBC_PAD : ck.CKM_AES_CBC,
  parameter: iv,
});

export const KEY_WRAP: Mechanism = { mechanism: ck.CKM_AES_KEY_WRAP };

/** The mechanism an AES algorithm needs, to check the token offers it before it is used. */
export function aesMechanismType(alg: AesAlgorithm): number {
  switch (alg.scheme) {
    case 'aes-gcm':
      return ck.CKM_AES_GCM;
    case 'aes-cbc':
      return ck.CKM_AES_CBC;
    case 'aes-cbc-pad':
      return ck.CKM_AES_CBC_PAD;
    case 'aes-kw':
      return ck.CKM_AES_KEY_WRAP;
  }
}

/** What the token cannot do is the caller's 400, never a silent fallback to software. */
export function notSupportedByToken(alg: KeyAlgorithm): NotSupported {
  return new NotSupported(
    `The HSM that holds this key does not support ${alg.name}; use another algorithm for this key.`,
  );
}

export function requireMechanism(token: Pkcs11Token, mechanism: number, alg: KeyAlgorithm): void {
  if (!token.mechanisms.has(mechanism)) throw notSupportedByToken(alg);
}
