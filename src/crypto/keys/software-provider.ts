import { type KeyObject, createPublicKey } from 'node:crypto';
import { aesDecrypt, aesEncrypt, aesUnwrap, aesWrap, rejectSymmetricInputs } from './aes.js';
import {
  type AesAlgorithm,
  type KeyAlgorithm,
  type SignatureAlgorithm,
  cipherAlgorithm,
  signatureAlgorithm,
} from './algorithms.js';
import { ecdsaSign, ecdsaVerify } from './ecdsa.js';
import { generateKey } from './generate.js';
import { checkCurve, checkDigest, checkOctSize, keyTypeMismatch } from './operation-checks.js';
import { decodeStored, importPrivateJwk, keySizeOf, publicJwkOf, storedCurve } from './jwk.js';
import { KeyHandleCache, type KeyHandleCacheOptions } from './key-handle-cache.js';
import type { DecryptOptions, EncryptOptions, EncryptResult, KeyOperations, KeyUse } from './provider.js';
import { rsaEncrypt, rsaVerify } from './rsa.js';
import { RsaWorkerPool } from './rsa-worker-pool.js';
import type { EcPrivateJwk, KeySpec, PublicJwk, RsaPrivateJwk, StoredKeyMaterial } from './types.js';

export interface SoftwareKeyProviderOptions {
  /** Threads for RSA private-key operations; os.availableParallelism() when absent. */
  rsaWorkers?: number;
  /** Bounds of the cache of parsed RSA private keys (key-handle-cache.ts). */
  keyHandles?: KeyHandleCacheOptions;
}

/**
 * Key Vault key operations with node:crypto. RSA private-key operations (sign, decrypt, unwrap)
 * run on the provider's own pool of worker threads (rsa-worker-pool.ts), which close() ends,
 * with the parsed key from a bounded cache (key-handle-cache.ts) when the caller names the key
 * version; everything else (RSA public operations, AES, ECDSA) runs in the calling thread.
 */
export class SoftwareKeyProvider implements KeyOperations<StoredKeyMaterial> {
  /** Where the RSA private-key operations run; public for tests and diagnostics. */
  readonly rsaPool: RsaWorkerPool;
  /** Parsed RSA private keys kept between operations; public for tests and diagnostics. */
  readonly keyHandles: KeyHandleCache;

  constructor(options: SoftwareKeyProviderOptions = {}) {
    this.rsaPool = new RsaWorkerPool({ size: options.rsaWorkers });
    this.keyHandles = new KeyHandleCache(options.keyHandles);
  }

  forgetKeyHandles(prefix?: string): void {
    if (prefix === undefined) this.keyHandles.clear();
    else this.keyHandles.invalidate(prefix);
  }

  #rsaPrivateKey(material: StoredKeyMaterial, alg: KeyAlgorithm, use: KeyUse | undefined): KeyObject {
    return this.keyHandles.rsaPrivateKey(rsaMaterial(material, alg), use?.handleId);
  }

  generate(spec: KeySpec): Promise<StoredKeyMaterial> {
    return generateKey(spec);
  }

  importJwk(jwk: object): StoredKeyMaterial {
    return importPrivateJwk(jwk);
  }

  publicJwk(material: StoredKeyMaterial): PublicJwk {
    return publicJwkOf(material);
  }

  keySize(material: StoredKeyMaterial): number {
    return keySizeOf(material);
  }

  // async: a check that fails (unknown algorithm, wrong key, bad digest) rejects, never throws.

  async sign(material: StoredKeyMaterial, alg: string, digest: Buffer, use?: KeyUse): Promise<Buffer> {
    const spec = signatureAlgorithm(alg);
    checkDigest(spec, digest);
    if (spec.scheme === 'ecdsa') {
      const ec = ecMaterial(material, spec);
      return ecdsaSign(storedCurve(ec), decodeStored(ec.d), digest);
    }
    return this.rsaPool.run('sign', this.#rsaPrivateKey(material, spec, use), spec.name, digest);
  }

  async verify(
    material: StoredKeyMaterial,
    alg: string,
    digest: Buffer,
    signature: Buffer,
  ): Promise<boolean> {
    const spec = signatureAlgorithm(alg);
    checkDigest(spec, digest);
    if (spec.scheme === 'ecdsa') {
      const ec = ecMaterial(material, spec);
      return ecdsaVerify(storedCurve(ec), publicPoint(ec), digest, signature);
    }
    return rsaVerify(rsaPublicKey(material, spec), spec, digest, signature);
  }

  async encrypt(
    material: StoredKeyMaterial,
    alg: string,
    plaintext: Buffer,
    options: EncryptOptions = {},
  ): Promise<EncryptResult> {
    const spec = cipherAlgorithm('encrypt', alg);
    if (spec.keyType === 'RSA') {
      rejectSymmetricInputs(spec, options);
      return { result: rsaEncrypt(rsaPublicKey(material, spec), spec, plaintext) };
    }
    return aesEncrypt(octKey(material, spec), spec, plaintext, options);
  }

  async decrypt(
    material: StoredKeyMaterial,
    alg: string,
    ciphertext: Buffer,
    options: DecryptOptions = {},
    use?: KeyUse,
  ): Promise<Buffer> {
    const spec = cipherAlgorithm('encrypt', alg);
    if (spec.keyType === 'RSA') {
      rejectSymmetricInputs(spec, options);
      const key = this.#rsaPrivateKey(material, spec, use);
      return this.rsaPool.run('decrypt', key, spec.name, ciphertext);
    }
    return aesDecrypt(octKey(material, spec), spec, ciphertext, options);
  }

  async wrapKey(material: StoredKeyMaterial, alg: string, key: Buffer): Promise<Buffer> {
    const spec = cipherAlgorithm('wrap', alg);
    if (spec.keyType === 'RSA') return rsaEncrypt(rsaPublicKey(material, spec), spec, key);
    return aesWrap(octKey(material, spec), spec, key);
  }

  async unwrapKey(material: StoredKeyMaterial, alg: string, wrapped: Buffer, use?: KeyUse): Promise<Buffer> {
    const spec = cipherAlgorithm('wrap', alg);
    if (spec.keyType === 'RSA') {
      return this.rsaPool.run('unwrap', this.#rsaPrivateKey(material, spec, use), spec.name, wrapped);
    }
    return aesUnwrap(octKey(material, spec), spec, wrapped);
  }

  /** Terminates the RSA worker threads; an operation still pending fails with InternalError. */
  close(): Promise<void> {
    return this.rsaPool.close();
  }
}

function rsaMaterial(material: StoredKeyMaterial, alg: KeyAlgorithm): RsaPrivateJwk {
  if (material.kty !== 'RSA') throw keyTypeMismatch(alg, material.kty);
  return material;
}

// Public operations are cheap (~60 µs with a fresh key) and stay in the calling thread, on a
// public key: the private members are not even parsed for them, and nothing is cached.
function rsaPublicKey(material: StoredKeyMaterial, alg: KeyAlgorithm): KeyObject {
  const { n, e } = rsaMaterial(material, alg);
  return createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
}

function ecMaterial(material: StoredKeyMaterial, alg: SignatureAlgorithm): EcPrivateJwk {
  if (material.kty !== 'EC' || alg.scheme !== 'ecdsa') throw keyTypeMismatch(alg, material.kty);
  checkCurve(alg, material.crv);
  return material;
}

function publicPoint(material: EcPrivateJwk): { x: Buffer; y: Buffer } {
  return { x: decodeStored(material.x), y: decodeStored(material.y) };
}

function octKey(material: StoredKeyMaterial, alg: AesAlgorithm): Buffer {
  if (material.kty !== 'oct') throw keyTypeMismatch(alg, material.kty);
  const key = decodeStored(material.k);
  checkOctSize(alg, key.length * 8);
  return key;
}
