import { rejectSymmetricInputs } from '../crypto/keys/aes.js';
import { BadParameter } from '../errors/index.js';
import { keyHandleId } from '../crypto/keys/key-handle-cache.js';
import type { KeyProvider, KeyUse } from '../crypto/keys/provider.js';
import { type Clock, unixSeconds } from '../lib/clock.js';
import type { ObjectLifecycle } from '../objects/lifecycle.js';
import type { VaultRecord } from '../vaults/types.js';
import { checkOperationAllowed } from './key-rules.js';
import type { KeyOperation, KeyVersionRecord } from './types.js';

export interface OperationInput {
  alg: string;
  value: Buffer;
  iv?: Buffer;
  aad?: Buffer;
  tag?: Buffer;
}

/**
 * The cryptographic operations on a stored key: look the version up, apply Key Vault's gate
 * (enabled, key_ops, validity window), then hand the material to the provider. The record is
 * read and checked on every call; the provider may keep the parsed private key under the
 * version's handle id, and keeps it only while the record it reads carries the same material.
 */
export function createKeyOperations(deps: {
  objects: Pick<ObjectLifecycle<KeyVersionRecord>, 'resolve'>;
  provider: KeyProvider;
  clock: Clock;
}) {
  async function usable(
    vault: VaultRecord,
    name: string,
    version: string | undefined,
    operation: KeyOperation,
  ) {
    const view = await deps.objects.resolve(vault, name, version);
    checkOperationAllowed(view.record, operation, unixSeconds(deps.clock.nowMs()));
    return view;
  }

  const use = (vault: VaultRecord, name: string, view: { record: KeyVersionRecord }): KeyUse => ({
    handleId: keyHandleId(vault.id, name, view.record.version),
  });

  return {
    async encrypt(vault: VaultRecord, name: string, version: string | undefined, input: OperationInput) {
      // The tag is an output of encryption; one sent in would be ignored, so it is refused.
      if (input.tag !== undefined) {
        throw new BadParameter(
          `${input.alg} encrypt takes no tag; decrypt takes the tag that encrypt returned.`,
        );
      }
      const view = await usable(vault, name, version, 'encrypt');
      const out = await deps.provider.encrypt(view.record.material, input.alg, input.value, {
        iv: input.iv,
        aad: input.aad,
      });
      return { view, value: out.result, iv: out.iv, tag: out.tag, aad: input.aad };
    },

    async decrypt(vault: VaultRecord, name: string, version: string | undefined, input: OperationInput) {
      const view = await usable(vault, name, version, 'decrypt');
      const value = await deps.provider.decrypt(
        view.record.material,
        input.alg,
        input.value,
        { iv: input.iv, aad: input.aad, tag: input.tag },
        use(vault, name, view),
      );
      return { view, value };
    },

    async sign(vault: VaultRecord, name: string, version: string | undefined, alg: string, digest: Buffer) {
      const view = await usable(vault, name, version, 'sign');
      return {
        view,
        value: await deps.provider.sign(view.record.material, alg, digest, use(vault, name, view)),
      };
    },

    async verify(
      vault: VaultRecord,
      name: string,
      version: string | undefined,
      alg: string,
      digest: Buffer,
      signature: Buffer,
    ) {
      const view = await usable(vault, name, version, 'verify');
      return { view, valid: await deps.provider.verify(view.record.material, alg, digest, signature) };
    },

    // Key wrap (RSA, RFC 3394) takes no iv, aad or tag: one sent anyway is refused, not ignored.
    async wrapKey(vault: VaultRecord, name: string, version: string | undefined, input: OperationInput) {
      rejectSymmetricInputs({ name: input.alg }, input);
      const view = await usable(vault, name, version, 'wrapKey');
      return { view, value: await deps.provider.wrapKey(view.record.material, input.alg, input.value) };
    },

    async unwrapKey(vault: VaultRecord, name: string, version: string | undefined, input: OperationInput) {
      rejectSymmetricInputs({ name: input.alg }, input);
      const view = await usable(vault, name, version, 'unwrapKey');
      const value = await deps.provider.unwrapKey(
        view.record.material,
        input.alg,
        input.value,
        use(vault, name, view),
      );
      return { view, value };
    },
  };
}
