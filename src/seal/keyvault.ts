import { readFileSync } from 'node:fs';
import { ClientSecretCredential } from '@azure/identity';
import { CryptographyClient } from '@azure/keyvault-keys';
import type { KeyVaultSealSettings } from '../config/types.js';
import type { KeyWrapper, WrappedUnsealKey } from './types.js';

/**
 * Auto-unseal through the Key Vault API: the unseal key is wrapped (wrapKey) by a key in
 * another vault, Azure Key Vault itself or another Coffer, and unwrapped (unwrapKey) when a node
 * starts, with the official SDK as client. The wrapping key never leaves that vault; the
 * credential needs only wrapKey and unwrapKey on it (Key Vault Crypto Service Encryption User).
 */
export function keyVaultWrapper(settings: KeyVaultSealSettings): KeyWrapper {
  const { credentials } = settings;
  // A private CA (another Coffer's) replaces the public roots for both the vault and the authority.
  const tls = credentials.caFile ? { tlsOptions: { ca: readCa(credentials.caFile) } } : {};
  const credential = new ClientSecretCredential(
    credentials.tenantId,
    credentials.clientId,
    credentials.clientSecret,
    {
      ...tls,
      ...(credentials.authorityHost && {
        authorityHost: credentials.authorityHost,
        disableInstanceDiscovery: true,
      }),
    },
  );
  const keyUrl = `${settings.vaultUrl}/keys/${encodeURIComponent(settings.keyName)}${
    settings.keyVersion ? `/${encodeURIComponent(settings.keyVersion)}` : ''
  }`;
  const client = (keyId: string) => new CryptographyClient(keyId, credential, { ...tls });

  return {
    type: 'keyvault',
    description: keyUrl,
    async wrap(unsealKey: Buffer): Promise<WrappedUnsealKey> {
      const result = await client(keyUrl).wrapKey(settings.algorithm, unsealKey);
      return {
        type: 'keyvault',
        // The version that wrapped: unwrapping must use it even after the key is rotated.
        keyId: result.keyID ?? keyUrl,
        algorithm: settings.algorithm,
        value: Buffer.from(result.result).toString('base64url'),
      };
    },
    async unwrap(wrapped: WrappedUnsealKey): Promise<Buffer> {
      const algorithm = wrapped.algorithm as KeyVaultSealSettings['algorithm'];
      const result = await client(wrapped.keyId).unwrapKey(
        algorithm,
        Buffer.from(wrapped.value, 'base64url'),
      );
      const unsealKey = Buffer.from(result.result);
      // The SDK's copy would otherwise stay in memory until collected.
      result.result.fill(0);
      return unsealKey;
    },
  };
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`seal.credentials.caFile: cannot read ${file} (${code})`, { cause: error });
  }
}

/** What went wrong talking to the other vault, in words safe for a log (no token, no key). */
export function describeWrapperFailure(error: unknown): string {
  const status = (error as { statusCode?: unknown })?.statusCode;
  const code = (error as { code?: unknown })?.code;
  const name = (error as { name?: unknown })?.name;
  if (status === 401 || status === 403) return `the key vault refused the credentials (HTTP ${status})`;
  if (status === 404) return 'the key vault has no such key (HTTP 404)';
  if (typeof status === 'number') return `the key vault answered HTTP ${status}`;
  if (name === 'AuthenticationError' || name === 'CredentialUnavailableError')
    return 'the seal credentials could not get a token';
  if (typeof code === 'string') return `the key vault could not be reached (${code})`;
  return `the key vault call failed (${typeof name === 'string' ? name : 'error'})`;
}
