import { openAesGcm, randomKey, sealAesGcm } from '../crypto/aes-gcm.js';
import { BadParameter, Conflict } from '../errors/index.js';
import { splitUnsealKey, validateShamirParameters } from '../seal/shamir.js';
import {
  type KeyWrapper,
  SEAL_CONFIG_PATH,
  type SealConfig,
  WRAPPED_ROOT_KEY_PATH,
  WRAPPED_UNSEAL_KEY_PATH,
  type WrappedUnsealKey,
} from '../seal/types.js';
import type { Storage } from '../storage/types.js';
import { ROOT_KEY_AAD } from './seal-manager.js';

export type SealTarget =
  { type: 'shamir'; shares: number; threshold: number } | { type: 'wrapper'; wrapper: KeyWrapper };

/**
 * Moves an installation to another seal and keeps its data: the root key (and so every record)
 * stays; only the unseal key that wraps it is replaced, and wrapped the new way (split into
 * shares, or wrapped by a key vault). The seal in force must be opened first (its shares, or its
 * wrapping key), so whoever migrates could unseal anyway. Everything is written in one
 * transaction; shares are made before it, so a failure leaves the old seal in force.
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
  if (target.type === 'shamir') validateShamirParameters(target.shares, target.threshold);
  const storedWrapped = await storage.get(WRAPPED_UNSEAL_KEY_PATH);
  const wrappedNow = storedWrapped && (JSON.parse(storedWrapped.toString('utf8')) as WrappedUnsealKey);
  const unsealKey = await deps.currentUnsealKey(current, wrappedNow);
  const wrappedRoot = await storage.get(WRAPPED_ROOT_KEY_PATH);
  const rootKey = wrappedRoot && openAesGcm(unsealKey, wrappedRoot, ROOT_KEY_AAD);
  unsealKey.fill(0);
  if (!rootKey)
    throw new BadParameter(
      'The unseal key of the current seal does not open this installation.',
      'InvalidUnsealKey',
    );
  const next = randomKey();
  try {
    const shares =
      target.type === 'shamir' ? await splitUnsealKey(next, target.shares, target.threshold) : [];
    const wrappedNext = target.type === 'wrapper' ? await target.wrapper.wrap(next) : undefined;
    const config: SealConfig = {
      type: target.type === 'shamir' ? 'shamir' : target.wrapper.type,
      shares: target.type === 'shamir' ? target.shares : 0,
      threshold: target.type === 'shamir' ? target.threshold : 0,
      initializedAt: current.initializedAt,
      ...(target.type === 'wrapper' && { wrappingKey: target.wrapper.description }),
    };
    await storage.transaction(async (tx) => {
      // Two migrations at once: the second finds the seal changed under it and stops.
      if (!(await tx.get(SEAL_CONFIG_PATH))?.equals(storedConfig)) {
        throw new Conflict('The seal changed while migrating (another migration?). Run it again.');
      }
      await tx.put(WRAPPED_ROOT_KEY_PATH, sealAesGcm(next, rootKey, ROOT_KEY_AAD));
      if (wrappedNext) await tx.put(WRAPPED_UNSEAL_KEY_PATH, Buffer.from(JSON.stringify(wrappedNext)));
      else await tx.delete(WRAPPED_UNSEAL_KEY_PATH);
      await tx.put(SEAL_CONFIG_PATH, Buffer.from(JSON.stringify(config)));
    });
    return { config, shares };
  } finally {
    rootKey.fill(0);
    next.fill(0);
  }
}
