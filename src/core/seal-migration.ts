import { randomKey } from '../crypto/aes-gcm.js';
import { BadParameter, Conflict } from '../errors/index.js';
import { unwrapRootKey, wrapRootKey } from '../seal/root-key.js';
import { splitUnsealKey, validateShamirParameters } from '../seal/shamir.js';
import {
  type KeyWrapper,
  LEGACY_PKCS11_UNSEAL_KEY_PATH,
  SEAL_CONFIG_PATH,
  type SealConfig,
  WRAPPED_ROOT_KEY_PATH,
  WRAPPED_UNSEAL_KEY_PATH,
  type WrappedUnsealKey,
} from '../seal/types.js';
import type { Storage } from '../storage/types.js';
import { readWrappedUnsealKey } from './seal-manager.js';

/**
 * The seal to move to: Shamir shares, or a key held elsewhere (keyvault, pkcs11) with optional
 * recovery shares (`shares` 0: none).
 */
export type SealTarget =
  | { type: 'shamir'; shares: number; threshold: number }
  | { type: 'wrapper'; wrapper: KeyWrapper; shares: number; threshold: number };

/**
 * Moves an installation to another seal and keeps its data: the root key (and so every record)
 * stays; only the unseal key that wraps it is replaced, and wrapped the new way (split into
 * shares, or wrapped by a key vault or a token). The seal in force must be opened first (its
 * shares, or its wrapping key), so whoever migrates could unseal anyway. Everything is written in
 * one transaction; shares are made before it, so a failure leaves the old seal in force.
 */
export async function migrateSeal(deps: {
  storage: Storage;
  /** The unseal key of the seal in force (the caller asks for shares or unwraps). */
  currentUnsealKey: (config: SealConfig, wrapped: WrappedUnsealKey | undefined) => Promise<Buffer>;
  target: SealTarget;
}): Promise<{ config: SealConfig; shares: string[] }> {
  const { storage, target } = deps;
  const storedConfig = await storage.get(SEAL_CONFIG_PATH);
  if (!storedConfig)
    throw new BadParameter('This installation is not initialised: there is no seal to migrate.');
  const current = JSON.parse(storedConfig.toString('utf8')) as SealConfig;
  if (current.type === 'dev-key') {
    throw new BadParameter(
      'A dev installation keeps its dev key: seal migration is for production installations.',
    );
  }
  if (target.type === 'shamir' || target.shares > 0)
    validateShamirParameters(target.shares, target.threshold);
  const unsealKey = await deps.currentUnsealKey(current, await readWrappedUnsealKey(storage));
  const wrappedRoot = await storage.get(WRAPPED_ROOT_KEY_PATH);
  const rootKey = wrappedRoot && unwrapRootKey(unsealKey, wrappedRoot);
  unsealKey.fill(0);
  if (!rootKey)
    throw new BadParameter(
      'The unseal key of the current seal does not open this installation.',
      'InvalidUnsealKey',
    );
  const next = randomKey();
  try {
    const shares = target.shares > 0 ? await splitUnsealKey(next, target.shares, target.threshold) : [];
    const wrappedNext = target.type === 'wrapper' ? await target.wrapper.wrap(next) : undefined;
    const config: SealConfig = {
      type: target.type === 'shamir' ? 'shamir' : target.wrapper.type,
      shares: target.shares,
      threshold: target.threshold,
      initializedAt: current.initializedAt,
      ...(target.type === 'wrapper' && { wrappingKey: target.wrapper.description }),
    };
    await storage.transaction(async (tx) => {
      // Two migrations at once: the second finds the seal changed under it and stops.
      if (!(await tx.get(SEAL_CONFIG_PATH))?.equals(storedConfig)) {
        throw new Conflict('The seal changed while migrating (another migration?). Run it again.');
      }
      await tx.put(WRAPPED_ROOT_KEY_PATH, wrapRootKey(next, rootKey));
      if (wrappedNext) await tx.put(WRAPPED_UNSEAL_KEY_PATH, Buffer.from(JSON.stringify(wrappedNext)));
      else await tx.delete(WRAPPED_UNSEAL_KEY_PATH);
      await tx.delete(LEGACY_PKCS11_UNSEAL_KEY_PATH);
      await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
    });
    return { config, shares };
  } finally {
    rootKey.fill(0);
    next.fill(0);
  }
}
