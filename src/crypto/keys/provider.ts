import type { KeySpec, PublicJwk, StoredKeyMaterial } from './types.js';

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

export interface EncryptResult {
  result: Buffer;
  /** Present for GCM and CBC: the caller must hand it back to decrypt. */
  iv?: Buffer;
  /** Present for GCM. */
  tag?: Buffer;
}

/**
 * The cryptographic core of Key Vault keys. Routes and services call only this interface, so an
 * HSM (PKCS#11) provider can replace the software one without touching them.
 *
 * Contract for every implementation:
 * - The key operations (sign, verify, encrypt, decrypt, wrapKey, unwrapKey) are asynchronous:
 *   the software provider runs RSA private-key operations on worker threads, and an HSM
 *   (PKCS#11) provider waits on its device. They never throw; every failure is a rejection.
 * - `alg` is an Azure algorithm name; an unknown one, or one outside the operation's family,
 *   fails with NotSupported (400) listing what is supported.
 * - A client mistake (wrong digest length, algorithm that does not fit the key, bad iv/tag size,
 *   failed decryption or unwrap) fails with BadParameter (400). Nothing else reaches the caller:
 *   no raw library error, and no message containing key material, plaintext or ciphertext.
 * - `verify` answers false for a signature that does not verify; it fails only for a bad request.
 * - Sign and verify take the DIGEST the client computed, never the message.
 */
export interface KeyProvider {
  generate(spec: KeySpec): Promise<StoredKeyMaterial>;
  /** Validates a client's private JWK (a parsed JSON object; extra fields are ignored) and returns what to store. */
  importJwk(jwk: object): StoredKeyMaterial;
  publicJwk(material: StoredKeyMaterial): PublicJwk;
  /** Bits: RSA modulus, EC field (256, 384, 521), oct key. */
  keySize(material: StoredKeyMaterial): number;
  sign(material: StoredKeyMaterial, alg: string, digest: Buffer): Promise<Buffer>;
  verify(material: StoredKeyMaterial, alg: string, digest: Buffer, signature: Buffer): Promise<boolean>;
  encrypt(
    material: StoredKeyMaterial,
    alg: string,
    plaintext: Buffer,
    options?: EncryptOptions,
  ): Promise<EncryptResult>;
  decrypt(
    material: StoredKeyMaterial,
    alg: string,
    ciphertext: Buffer,
    options?: DecryptOptions,
  ): Promise<Buffer>;
  wrapKey(material: StoredKeyMaterial, alg: string, key: Buffer): Promise<Buffer>;
  unwrapKey(material: StoredKeyMaterial, alg: string, wrapped: Buffer): Promise<Buffer>;
  /** Releases what the provider holds (worker threads, an HSM session); called once, on shutdown. */
  close(): Promise<void>;
}
