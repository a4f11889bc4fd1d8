import { InsufficientStorage, ServiceUnavailable } from '../../../errors/index.js';
import { ck } from './library.js';

/**
 * How a PKCS#11 failure reads to a client. A token that is gone (removed, powered off, network
 * HSM unreachable) makes every operation answer 503 until it returns; a full token refuses new
 * keys with 507; a mechanism or parameter the token lacks is the caller's 400 (NotSupported),
 * never a silent fallback to software. Messages name the condition, never a value.
 */

/** Codes that mean the token or the session is no longer there. */
export const TOKEN_GONE: ReadonlySet<number> = new Set([
  ck.CKR_DEVICE_REMOVED,
  ck.CKR_DEVICE_ERROR,
  ck.CKR_TOKEN_NOT_PRESENT,
  ck.CKR_TOKEN_NOT_RECOGNIZED,
  ck.CKR_SESSION_HANDLE_INVALID,
  ck.CKR_SESSION_CLOSED,
  ck.CKR_CRYPTOKI_NOT_INITIALIZED,
  ck.CKR_USER_NOT_LOGGED_IN,
  ck.CKR_SLOT_ID_INVALID,
]);

/**
 * Codes a vanished token also produces (SoftHSM answers CKR_OBJECT_HANDLE_INVALID or
 * CKR_GENERAL_ERROR for a token whose files went away), but which have other causes too: a
 * health check of the token decides.
 */
export const MAYBE_GONE: ReadonlySet<number> = new Set([
  ck.CKR_GENERAL_ERROR,
  ck.CKR_FUNCTION_FAILED,
  ck.CKR_OBJECT_HANDLE_INVALID,
  ck.CKR_KEY_HANDLE_INVALID,
  ck.CKR_WRAPPING_KEY_HANDLE_INVALID,
  ck.CKR_UNWRAPPING_KEY_HANDLE_INVALID,
]);

/** Codes of a mechanism, parameter or key kind the token does not implement. */
export const NOT_SUPPORTED: ReadonlySet<number> = new Set([
  ck.CKR_MECHANISM_INVALID,
  ck.CKR_MECHANISM_PARAM_INVALID,
  ck.CKR_ARGUMENTS_BAD,
  ck.CKR_FUNCTION_NOT_SUPPORTED,
  ck.CKR_KEY_TYPE_INCONSISTENT,
  ck.CKR_KEY_FUNCTION_NOT_PERMITTED,
  ck.CKR_DOMAIN_PARAMS_INVALID,
  ck.CKR_TEMPLATE_INCONSISTENT,
  ck.CKR_ATTRIBUTE_VALUE_INVALID,
  ck.CKR_KEY_SIZE_RANGE,
]);

/** Codes that say the input data (ciphertext, wrapped key, length) is not what the key accepts. */
export const BAD_INPUT: ReadonlySet<number> = new Set([
  ck.CKR_DATA_INVALID,
  ck.CKR_DATA_LEN_RANGE,
  ck.CKR_ENCRYPTED_DATA_INVALID,
  ck.CKR_ENCRYPTED_DATA_LEN_RANGE,
  ck.CKR_WRAPPED_KEY_INVALID,
  ck.CKR_WRAPPED_KEY_LEN_RANGE,
  ck.CKR_UNWRAPPING_KEY_SIZE_RANGE,
]);

export const hsmUnavailable = () =>
  new ServiceUnavailable(
    'The HSM that holds this key is unavailable (removed, powered off or unreachable). Retry later; an operator should check the token.',
  );

export const hsmFull = () =>
  new InsufficientStorage(
    'The HSM has no room for another key. An operator must free space in the token (purge deleted HSM keys) or add capacity.',
  );
