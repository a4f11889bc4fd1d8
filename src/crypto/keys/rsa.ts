import {
  type KeyObject,
  constants,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { timingSafeEqual } from 'node:crypto';
import { BadParameter, InternalError } from '../../errors/index.js';
import type { CipherAlgorithm, HashName, SignatureAlgorithm } from './algorithms.js';
import { pssEncode, pssVerify } from './pss.js';

/**
 * RSA signatures over a client's digest, and RSA encryption. Every private operation runs in
 * OpenSSL (blinded, constant-time); only padding that node:crypto cannot apply is done here.
 */

// DER of DigestInfo { AlgorithmIdentifier(hash, NULL), OCTET STRING(len) } (RFC 8017 §9.2 note 1).
export const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new InternalError('RSA key object without a modulus length');
  return bits;
}

export function rsaSign(key: KeyObject, alg: SignatureAlgorithm, digest: Buffer): Buffer {
  if (alg.scheme === 'rsa-pkcs1') {
    // PKCS#1 v1.5 type-1 padding of DigestInfo is exactly what RSASSA-PKCS1-v1_5 signs.
    const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX[alg.hash], digest]);
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
  }
  const encoded = pssEncode(alg.hash, digest, modulusBits(key));
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, encoded);
}

export function rsaVerify(
  key: KeyObject,
  alg: SignatureAlgorithm,
  digest: Buffer,
  signature: Buffer,
): boolean {
  const bits = modulusBits(key);
  if (signature.length !== Math.ceil(bits / 8)) return false;
  try {
    if (alg.scheme === 'rsa-pkcs1') {
      const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      const expected = Buffer.concat([DIGEST_INFO_PREFIX[alg.hash], digest]);
      // Compare the whole DigestInfo rather than parse it: no lenient DER to exploit.
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    const recovered = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
    return pssVerify(alg.hash, digest, recovered, bits);
  } catch {
    // OpenSSL rejects a signature >= n or with broken type-1 padding: that is just "invalid".
    return false;
  }
}

function maxPlaintext(alg: CipherAlgorithm, modulusBytes: number): number {
  if (alg.scheme !== 'rsa-oaep') return modulusBytes - 11;
  const hashBytes = alg.oaepHash === 'sha1' ? 20 : 32;
  return modulusBytes - 2 * hashBytes - 2;
}

/** A plaintext too long for the key and padding is the caller's 400, whichever backend encrypts. */
export function checkRsaPlaintext(alg: CipherAlgorithm, modulusBytes: number, plaintext: Buffer): void {
  const limit = maxPlaintext(alg, modulusBytes);
  if (plaintext.length > limit) {
    throw new BadParameter(`${alg.name} with this ${modulusBytes * 8}-bit key takes at most ${limit} bytes.`);
  }
}

export function rsaEncrypt(key: KeyObject, alg: CipherAlgorithm, plaintext: Buffer): Buffer {
  checkRsaPlaintext(alg, Math.ceil(modulusBits(key) / 8), plaintext);
  if (alg.scheme === 'rsa-oaep') {
    return publicEncrypt(
      { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.oaepHash },
      plaintext,
    );
  }
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, plaintext);
}

export const DECRYPTION_FAILED =
  'Decryption failed: the value was not encrypted with this key and algorithm.';

export function checkRsaCiphertext(alg: CipherAlgorithm, modulusBytes: number, ciphertext: Buffer): void {
  if (ciphertext.length !== modulusBytes) {
    throw new BadParameter(`${alg.name} ciphertext for this key must be ${modulusBytes} bytes.`);
  }
}

export function rsaDecrypt(key: KeyObject, alg: CipherAlgorithm, ciphertext: Buffer): Buffer {
  checkRsaCiphertext(alg, Math.ceil(modulusBits(key) / 8), ciphertext);
  let decoded: Buffer | undefined;
  try {
    if (alg.scheme === 'rsa-oaep') {
      decoded = privateDecrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg.oaepHash },
        ciphertext,
      );
    } else {
      // Node 20 refuses RSA_PKCS1_PADDING for private decryption (CVE-2023-46809, the Marvin
      // timing attack), so the raw result is unpadded here, without early exits.
      decoded = unpadPkcs1Type2(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext));
    }
  } catch {
    decoded = undefined;
  }
  if (decoded === undefined) throw new BadParameter(DECRYPTION_FAILED);
  return decoded;
}

/**
 * EME-PKCS1-v1_5 decoding (RFC 8017 §7.2.2): 00 02 PS(>= 8 non-zero bytes) 00 M. The scan reads
 * every byte whatever it finds, so where the padding breaks shows in no timing difference.
 */
function unpadPkcs1Type2(em: Buffer): Buffer | undefined {
  let bad = (em[0] ?? 1) | ((em[1] ?? 0) ^ 0x02);
  let separator = 0;
  for (let i = 2; i < em.length; i++) {
    const isZero = ((em[i] ?? 0) - 1) >>> 31; // 1 if the byte is 0, else 0
    const first = isZero & (separator === 0 ? 1 : 0);
    separator = first ? i : separator;
  }
  bad |= separator < 10 ? 1 : 0; // no separator (0), or PS shorter than 8 bytes
  return bad === 0 ? em.subarray(separator + 1) : undefined;
}
