import type { Curve, KeyMaterial, KeySpec, KeyType, PublicJwk } from './types.js';

/**
 * Symmetric encryption inputs. RSA algorithms refuse them (400); CBC refuses aad and tag (it
 * authenticates nothing).
 */
export interface EncryptOptions {
  /**
   * Decrypt: required for GCM (12 bytes) and CBC (16 bytes). Encrypt: GCM refuses it (the service
   * chooses every GCM iv), CBC takes a caller's 16 bytes or generates them.
   */
  iv?: Buffer;
  /** GCM only: authenticated, not encrypted. */
  aad?: Buffer;
}

export interface DecryptOptions extends EncryptOptions {
  /** GCM only: the 16-byte authentication tag that encrypt returned. */
  tag?: Buffer;
}

/**
 * How the caller knows the key: `handleId` (key-handle-cache.ts: vault, key, version) lets a
 * backend keep the parsed key between private operations. Without it nothing is kept.
 */
export interface KeyUse {
  handleId?: string;
}

export interface EncryptResult {
  result: Buffer;
  /** Present for GCM and CBC: the caller must hand it back to decrypt. */
  iv?: Buffer;
  /** Present for GCM. */
  tag?: Buffer;
}

/** Where a new key goes: into the HSM (an -HSM key type in a premium vault) or software. */
export interface KeyPlacement {
  hsm?: boolean;
  /** Names the token objects for operators who list the token: `coffer/{vault}/{key}`. */
  label?: string;
}

/** The key a BYOK transfer blob carries, as the import request describes it. */
export interface TransferTarget {
  kty: KeyType;
  /** Required for EC keys: the curve the target key must be on. */
  crv?: Curve;
}

/**
 * The operations on keys a backend made. Contract for every implementation:
 * - The key operations (sign, verify, encrypt, decrypt, wrapKey, unwrapKey) are asynchronous:
 *   the software provider runs RSA private-key operations on worker threads, and the PKCS#11
 *   provider waits on its token. They never throw; every failure is a rejection.
 * - `alg` is an Azure algorithm name; an unknown one, or one outside the operation's family,
 *   fails with NotSupported (400) listing what is supported. An algorithm the backend cannot
 *   run (a token without the mechanism) is NotSupported too, never a silent fallback.
 * - A client mistake (wrong digest length, algorithm that does not fit the key, bad iv/tag size,
 *   failed decryption or unwrap) fails with BadParameter (400). Nothing else reaches the caller:
 *   no raw library error, and no message containing key material, plaintext or ciphertext.
 * - `verify` answers false for a signature that does not verify; it fails only for a bad request.
 * - Sign and verify take the DIGEST the client computed, never the message.
 */
export interface KeyOperations<M> {
  publicJwk(material: M): PublicJwk;
  /** Bits: RSA modulus, EC field (256, 384, 521), oct key. */
  keySize(material: M): number;
  sign(material: M, alg: string, digest: Buffer, use?: KeyUse): Promise<Buffer>;
  verify(material: M, alg: string, digest: Buffer, signature: Buffer): Promise<boolean>;
  encrypt(material: M, alg: string, plaintext: Buffer, options?: EncryptOptions): Promise<EncryptResult>;
  decrypt(
    material: M,
    alg: string,
    ciphertext: Buffer,
    options?: DecryptOptions,
    use?: KeyUse,
  ): Promise<Buffer>;
  wrapKey(material: M, alg: string, key: Buffer): Promise<Buffer>;
  unwrapKey(material: M, alg: string, wrapped: Buffer, use?: KeyUse): Promise<Buffer>;
  /** Releases what the backend holds (worker threads, token sessions); called once, on shutdown. */
  close(): Promise<void>;
}

/**
 * The cryptographic core of Key Vault keys. Routes and services call only this interface; it
 * sends each key to the backend that holds it (software, or the PKCS#11 token for HSM keys).
 */
export interface KeyProvider extends KeyOperations<KeyMaterial> {
  generate(spec: KeySpec, placement?: KeyPlacement): Promise<KeyMaterial>;
  /** Validates a client's private JWK (a parsed JSON object; extra fields are ignored) and stores it. */
  importJwk(jwk: object, placement?: KeyPlacement): Promise<KeyMaterial>;
  /**
   * BYOK: unwraps, inside the token, a key wrapped for `kek` (an HSM RSA key) as Azure's key
   * transfer blob carries it (CKM_RSA_AES_KEY_WRAP: RSA-OAEP-SHA1 of an AES key, then AES key
   * wrap with padding of the PKCS#8 or raw key).
   */
  importWrapped(
    kek: KeyMaterial,
    ciphertext: Buffer,
    target: TransferTarget,
    placement?: KeyPlacement,
  ): Promise<KeyMaterial>;
  /** Destroys what holds the key outside the record (its token objects); nothing for software keys. */
  destroy(material: KeyMaterial): Promise<void>;
  /** The material as a backup carries it: an HSM key wrapped under the token's backup key. */
  exportForBackup(material: KeyMaterial): Promise<KeyMaterial>;
  /** The material of a restored backup: an HSM key unwrapped into the token again. */
  importFromBackup(material: KeyMaterial, placement?: KeyPlacement): Promise<KeyMaterial>;
  /**
   * Drops the parsed keys kept for `handleId`s starting with `prefix` (a key, a vault), or all of
   * them without one: called on every change of a key and on seal (core/cache-invalidation.ts).
   */
  forgetKeyHandles(prefix?: string): void;
  /** Whether an HSM is configured: premium vaults need one. */
  readonly hasHsm: boolean;
}
