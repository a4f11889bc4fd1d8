import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CofferApp } from '../app.js';
import { ADMIN_PRINCIPAL_NAME } from '../app.js';
import type { CofferConfig } from '../config/types.js';
import type { IssuedCredentials } from '../identity/types.js';
import { KEY_VAULT_ADMINISTRATOR_ROLE_ID } from '../policy/role-service.js';
import { readOrCreateDevUnsealKey } from '../seal/dev-key.js';

export interface DevFacts {
  url: string;
  vaultName: string;
  vaultUrl: string;
  baseDomain: string;
  tenantId: string;
  /** Resource Manager's subscription (CONTRACT section 12). */
  subscriptionId: string;
  authorityHost: string;
  clientId: string;
  clientSecret: string;
  caFile: string;
}

/**
 * Dev mode: initialise on first start, unseal from the key file on every start, make sure the
 * `dev` vault and an administrator exist, and reuse the administrator's credentials from
 * dev.json across restarts. NOT FOR PRODUCTION: the unseal key sits next to the data.
 */
export async function prepareDevServer(app: CofferApp, config: CofferConfig): Promise<IssuedCredentials> {
  const unsealKey = readOrCreateDevUnsealKey(path.join(config.dataDir, 'unseal.key'));
  const status = await app.seal.status();
  let admin: IssuedCredentials | undefined;
  if (!status.initialized) {
    admin = (
      await app.seal.initialize({ type: 'dev-key', shares: 1, threshold: 1, unsealKey }, app.bootstrap)
    ).bootstrapped;
  }
  await app.seal.unsealWithKey(unsealKey);
  admin ??= await reuseOrResetAdmin(app, config);
  // CONTRACT section 2: the dev administrator holds Key Vault Administrator on every vault, also in
  // data dirs made before roles existed or after a reset of the administrator.
  await app.roles.ensureAssignment(KEY_VAULT_ADMINISTRATOR_ROLE_ID, admin.objectId, '/');
  const vaultName = config.defaultVault ?? 'dev';
  if (!(await app.vaults.find(vaultName))) await app.vaults.create(vaultName);
  return admin;
}

async function reuseOrResetAdmin(app: CofferApp, config: CofferConfig): Promise<IssuedCredentials> {
  const previous = readDevFacts(config.dataDir);
  if (previous) {
    const record = await app.principals.verifyClientSecret(previous.clientId, previous.clientSecret);
    if (record?.administrator) {
      return {
        objectId: record.objectId,
        clientId: record.clientId,
        clientSecret: previous.clientSecret,
        tenantId: previous.tenantId,
        name: record.name,
      };
    }
  }
  // dev.json was lost or edited: give the administrator a fresh secret rather than lock the developer out.
  const existing = (await app.principals.list()).find(
    (record) => record.name === ADMIN_PRINCIPAL_NAME && record.administrator,
  );
  if (existing) return app.principals.resetSecret(existing.objectId);
  return app.principals.create({ name: ADMIN_PRINCIPAL_NAME, administrator: true });
}

export function devFactsPath(dataDir: string): string {
  return path.join(dataDir, 'dev.json');
}

function readDevFacts(dataDir: string): DevFacts | undefined {
  const file = devFactsPath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevFacts;
  } catch {
    return undefined;
  }
}

/** Written atomically (temp file + rename) with mode 0600: it holds a client secret. */
export function writeDevFacts(dataDir: string, facts: DevFacts): void {
  const file = devFactsPath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(facts, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
