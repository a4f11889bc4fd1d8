import type { SealSettings } from '../config/types.js';
import { keyVaultWrapper } from './keyvault.js';
import { Pkcs11Seal } from './pkcs11-seal.js';
import type { KeyWrapper } from './types.js';

/** A key wrapper that may hold a resource (a token session) until closed. */
export type OpenKeyWrapper = KeyWrapper & { close?(): void };

/**
 * The one place that turns the `seal` setting into the key that wraps the unseal key:
 * none for Shamir, another key vault's key, or an AES key in a PKCS#11 token. The server's
 * auto-unseal and the offline seal-migrate both go through here.
 */
export async function openKeyWrapper(settings: SealSettings): Promise<OpenKeyWrapper | undefined> {
  switch (settings.type) {
    case 'shamir':
      return undefined;
    case 'keyvault':
      return keyVaultWrapper(settings);
    case 'pkcs11':
      return Pkcs11Seal.open({ ...settings.token, keyLabel: settings.keyLabel });
  }
}
