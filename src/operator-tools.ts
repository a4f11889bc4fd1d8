import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config/load.js';
import { migrateSeal } from './core/seal-migration.js';
import { CofferError } from './errors/index.js';
import { describeWrapperFailure } from './seal/keyvault.js';
import { openKeyWrapper } from './seal/wrappers.js';
import { combineShares, parseShare } from './seal/shamir.js';
import type { SealConfig } from './seal/types.js';
import type { ClusteredStorage } from './storage/cluster.js';
import { type CopyProgress, copyInstallation, verifyInstallation } from './storage/copy.js';
import { PostgresStorage } from './storage/postgres/pg-storage.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';

/**
 * Operator commands that work on an installation's storage directly, not through a server:
 * moving it to another backend, and changing its seal. Loaded on demand by the CLI (as the
 * server is); each opens the store the way a lone server would, so a running SQLite server
 * refuses them (stop it first) while PostgreSQL nodes may keep running.
 */

/** `sqlite:DIR` or a `postgres://` URL. */
async function openStore(spec: string, role: 'source' | 'target'): Promise<ClusteredStorage> {
  if (/^postgres(ql)?:\/\//.test(spec)) return PostgresStorage.open({ url: spec, cacheBytes: 0 });
  const match = /^sqlite:(.+)$/.exec(spec);
  if (!match)
    throw new Error(`'${spec.slice(0, 80)}' names no store: write sqlite:DIR or postgres://HOST/DATABASE`);
  const dir = path.resolve(match[1]!);
  const file = path.join(dir, 'coffer.db');
  if (role === 'source' && !existsSync(file))
    throw new Error(`${dir} holds no Coffer installation (no coffer.db)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return new SqliteStorage(file, { cacheBytes: 0 });
}

export async function migrateStorage(options: {
  from: string;
  to: string;
  verify: boolean;
  progress: CopyProgress;
}): Promise<{ entries: number; claims: number; verified: boolean }> {
  const from = await openStore(options.from, 'source');
  try {
    const to = await openStore(options.to, 'target');
    try {
      const copied = await copyInstallation(from, to, options.progress);
      if (!options.verify) return { ...copied, verified: false };
      const check = await verifyInstallation(from, to, options.progress);
      if (check.mismatched > 0 || check.entries !== copied.entries) {
        throw new Error(
          `verification failed: ${check.mismatched} key(s) differ (first: ${check.mismatches.slice(0, 3).join(', ')}); the target is not usable, drop it and run again`,
        );
      }
      return { ...copied, verified: true };
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

export async function migrateSealOffline(options: {
  configFile?: string;
  dataDir?: string;
  to: 'shamir' | 'keyvault' | 'pkcs11';
  shares?: number;
  threshold?: number;
  /** Asked only when the seal in force must be opened with shares: that many of them. */
  readShares: (count: number) => Promise<string[]>;
}): Promise<{ sealType: string; shares: string[] }> {
  const config = loadConfig({ dev: false, configFile: options.configFile, dataDir: options.dataDir });
  if (options.to !== 'shamir' && config.seal.type !== options.to) {
    throw new Error(
      `--to ${options.to} needs a "seal": {"type": "${options.to}", ...} section in the config file (or COFFER_SEAL_TYPE=${options.to} with its settings)`,
    );
  }
  if (options.to === 'pkcs11' && (options.shares === undefined || options.threshold === undefined))
    throw new Error(
      '--to pkcs11 needs --shares and --threshold: recovery shares open the store without the token',
    );
  const wrapper = await openKeyWrapper(config.seal);
  const storage =
    config.storage.type === 'postgres'
      ? await PostgresStorage.open({ ...config.storage, cacheBytes: 0 })
      : new SqliteStorage(config.storage.file, { cacheBytes: 0 });
  try {
    const shares = { shares: options.shares ?? 0, threshold: options.threshold ?? 0 };
    const result = await migrateSeal({
      storage,
      target:
        options.to === 'shamir'
          ? { type: 'shamir', ...shares }
          : { type: 'wrapper', wrapper: wrapper!, ...shares },
      currentUnsealKey: async (current: SealConfig, wrapped) => {
        if (wrapper && wrapped && wrapped.type === wrapper.type) return wrapper.unwrap(wrapped);
        // Shamir, or the recovery shares of an auto-unseal seal whose key is not configured here.
        if (current.shares > 0) {
          const texts = await options.readShares(current.threshold);
          return combineShares(texts.map((text) => parseShare(text, current.shares === 1 ? 32 : 33)));
        }
        throw new Error(`the installation uses the ${current.type} seal: configure it in "seal" to open it`);
      },
    });
    return { sealType: result.config.type, shares: result.shares };
  } catch (error) {
    // The key vault's SDK errors can carry request details: say what failed in our words.
    if (error instanceof CofferError || !isKeyVaultFailure(error)) throw error;
    throw new Error(`seal migration failed: ${describeWrapperFailure(error)}`, { cause: error });
  } finally {
    await storage.close();
    wrapper?.close?.();
  }
}

function isKeyVaultFailure(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  return name === 'RestError' || name === 'AuthenticationError' || name === 'CredentialUnavailableError';
}
