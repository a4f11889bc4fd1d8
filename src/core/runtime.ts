import { createBackupKey, loadBackupKey } from '../backup/backup-codec.js';
import type { SecureStore } from '../barrier/secure-store.js';
import { Sealed } from '../errors/index.js';
import { createSigningKey, loadSigningKey, type SigningKey } from '../identity/signing-key.js';
import { loadTenant, saveTenant } from '../identity/tenant.js';
import type { Clock } from '../lib/clock.js';
import { newUuid } from '../lib/ids.js';

/**
 * What the server holds in memory only while unsealed: the tenant id, the token signing key
 * and the backup key. Reading any of it while sealed throws Sealed.
 */
export class Runtime {
  private loaded: { tenantId: string; signingKey: SigningKey; backupKey: Buffer } | undefined;

  constructor(private readonly identityStore: SecureStore) {}

  /** First initialisation: the tenant and the installation's keys. */
  async create(clock: Clock): Promise<void> {
    await saveTenant(this.identityStore, {
      tenantId: newUuid(),
      createdAt: new Date(clock.nowMs()).toISOString(),
    });
    await createSigningKey(this.identityStore);
    await createBackupKey(this.identityStore);
  }

  async load(): Promise<void> {
    const tenant = await loadTenant(this.identityStore);
    if (!tenant) throw new Error('the tenant record is missing from the store');
    this.loaded = {
      tenantId: tenant.tenantId,
      signingKey: await loadSigningKey(this.identityStore),
      backupKey: await loadBackupKey(this.identityStore),
    };
  }

  unload(): void {
    this.loaded?.backupKey.fill(0);
    this.loaded = undefined;
  }

  private require() {
    if (!this.loaded) throw new Sealed();
    return this.loaded;
  }

  tenantId = (): string => this.require().tenantId;
  signingKey = (): SigningKey => this.require().signingKey;
  backupKey = (): Buffer => this.require().backupKey;
}
