/**
 * A seal protects the root key. The root key is stored wrapped (AES-256-GCM) under an unseal
 * key; the seal is how an operator produces that unseal key again: a key file (dev mode only),
 * Shamir shares held by several people, or a key held elsewhere (another key vault, a PKCS#11
 * token) that wraps the unseal key, so a node unseals itself when it starts (auto-unseal).
 */
export type SealType = 'dev-key' | 'shamir' | 'keyvault' | 'pkcs11';

/** Seals whose unseal key is wrapped by a key held elsewhere, not rebuilt from shares. */
export const AUTO_UNSEAL_TYPES: readonly SealType[] = ['keyvault', 'pkcs11'];

/**
 * A key held outside Coffer that wraps and unwraps the unseal key. Implementations never see
 * the root key or data; a failure says what to fix without repeating a credential.
 */
export interface KeyWrapper {
  readonly type: SealType;
  /** Which key, for status and logs (a key URL, a token label): never secret. */
  readonly description: string;
  wrap(unsealKey: Buffer): Promise<WrappedUnsealKey>;
  unwrap(wrapped: WrappedUnsealKey): Promise<Buffer>;
}

/** Stored in the clear at WRAPPED_UNSEAL_KEY_PATH: only the wrapping key can open it. */
export interface WrappedUnsealKey {
  type: SealType;
  /** The exact key (and version) that wrapped, so unwrapping survives a rotation of that key. */
  keyId: string;
  algorithm: string;
  /** base64url */
  value: string;
}

/** Stored in the clear: it is needed before anything can be decrypted and holds nothing secret. */
export interface SealConfig {
  type: SealType;
  shares: number;
  threshold: number;
  initializedAt: string;
  /** Auto-unseal seals: the key that wraps the unseal key (a description, never secret). */
  wrappingKey?: string;
}

export const SEAL_CONFIG_PATH = 'core/seal-config';
export const WRAPPED_ROOT_KEY_PATH = 'core/root-key';
export const WRAPPED_UNSEAL_KEY_PATH = 'core/unseal-key-wrapped';
/**
 * An unseal key wrapped by a PKCS#11 token before the seals were unified (raw blob, not JSON):
 * still read, so an installation initialised then auto-unseals; never written any more.
 */
export const LEGACY_PKCS11_UNSEAL_KEY_PATH = 'core/unseal-key-pkcs11';
/**
 * Written in the clear before initialisation writes anything else and removed in the same commit
 * that writes the seal configuration: while it exists, what the store holds is an unfinished
 * initialisation that may be cleared and redone, never data.
 */
export const INIT_PENDING_PATH = 'core/init-pending';
