import type { Runtime } from '../core/runtime.js';
import type { Identity } from '../identity/identity.js';
import type { IssuedCredentials } from '../identity/types.js';
import type { Clock } from '../lib/clock.js';
import { KEY_VAULT_ADMINISTRATOR_ROLE_ID, type RoleService } from '../policy/role-service.js';

export const ADMIN_PRINCIPAL_NAME = 'administrator';

/**
 * What a freshly initialised barrier gets first: the tenant and installation keys, and the first
 * administrator, whose credentials are returned once.
 */
export function installationBootstrap(deps: {
  runtime: Runtime;
  principals: Identity['principals'];
  roles: Pick<RoleService, 'ensureAssignment'>;
  clock: Clock;
}): () => Promise<IssuedCredentials> {
  return async () => {
    await deps.runtime.create(deps.clock);
    await deps.runtime.load();
    const admin = await deps.principals.create({ name: ADMIN_PRINCIPAL_NAME, administrator: true });
    // The administrator flag covers managing Coffer; reading vault data takes a role, as in Azure.
    await deps.roles.ensureAssignment(KEY_VAULT_ADMINISTRATOR_ROLE_ID, admin.objectId, '/');
    deps.runtime.unload();
    return admin;
  };
}
