/**
 * A seal protects the root key. The root key is stored wrapped (AES-256-GCM) under an unseal
 * key; the seal is how an operator produces that unseal key again: a key file (dev mode only),
 * Shamir shares held by several people, or a key in a PKCS#11 token (with recovery shares).
 */
export type SealType = 'dev-key' | 'shamir' | 'pkcs11';

/** Stored in the clear: it is needed before anything can be decrypted and holds nothing secret. */
export interface SealConfig {
  type: SealType;
  shares: number;
  threshold: number;
  initializedAt: string;
}

export const SEAL_CONFIG_PATH = 'core/seal-config';
export const WRAPPED_ROOT_KEY_PATH = 'core/root-key';
/**
 * Written in the clear before initialisation writes anything else and removed in the same commit
 * that writes the seal configuration: while it exists, what the store holds is an unfinished
 * initialisation that may be cleared and redone, never data.
 */
export const INIT_PENDING_PATH = 'core/init-pending';
