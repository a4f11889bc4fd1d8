import { type Pkcs11Api, Pkcs11ConfigError, Pkcs11Library, ck, ckrName, ckrOf } from './library.js';
import { findAll } from './objects.js';
import { type TokenOptions, findSlot } from './token.js';

/**
 * Creates the installation's HSM backup key: an AES-256 token key marked CKA_TRUSTED, which
 * only the token's security officer may set. HSM keys made while it is configured carry
 * CKA_WRAP_WITH_TRUSTED, so the token lets them out only wrapped under such a key. PKCS#11 lets
 * the SO create public objects only: the key is usable for wrapping without the user PIN, so
 * the protection of a backup also rests on the blob's outer encryption (see docs/hsm.md).
 */
export async function createHsmBackupKey(
  options: Pick<TokenOptions, 'library' | 'slot' | 'tokenLabel'> & { soPin: string; label: string },
): Promise<void> {
  const library = Pkcs11Library.open(options.library);
  await library.call((api) => {
    const session = api.C_OpenSession(findSlot(api, options), ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION);
    try {
      loginAsSecurityOfficer(api, session, options.soPin);
      try {
        const existing = findAll(api, session, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_LABEL, value: options.label },
        ]);
        if (existing.length > 0) {
          throw new Pkcs11ConfigError(`the token already holds a key labelled '${options.label}'.`);
        }
        api.C_GenerateKey(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
          { type: ck.CKA_VALUE_LEN, value: 32 },
          { type: ck.CKA_TOKEN, value: true },
          { type: ck.CKA_LABEL, value: options.label },
          // The security officer may create public objects only.
          { type: ck.CKA_PRIVATE, value: false },
          { type: ck.CKA_TRUSTED, value: true },
          { type: ck.CKA_SENSITIVE, value: true },
          { type: ck.CKA_EXTRACTABLE, value: false },
          { type: ck.CKA_WRAP, value: true },
          { type: ck.CKA_UNWRAP, value: true },
          { type: ck.CKA_ENCRYPT, value: false },
          { type: ck.CKA_DECRYPT, value: false },
          { type: ck.CKA_MODIFIABLE, value: false },
        ]);
      } finally {
        api.C_Logout(session);
      }
    } finally {
      api.C_CloseSession(session);
    }
  });
}

function loginAsSecurityOfficer(api: Pkcs11Api, session: Buffer, soPin: string): void {
  try {
    api.C_Login(session, ck.CKU_SO, soPin);
  } catch (error) {
    throw new Pkcs11ConfigError(
      `the token refused the security officer PIN (${ckrName(ckrOf(error))}); give it in COFFER_PKCS11_SO_PIN.`,
    );
  }
}
