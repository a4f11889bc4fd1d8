import type { SecureStore } from '../barrier/secure-store.js';
import type { AdminRoute } from '../http/admin-plane.js';
import type { Clock } from '../lib/clock.js';
import { NotFound } from '../errors/index.js';
import { isUuid } from '../lib/ids.js';
import { createAuthorizationCodes } from './authorization-codes.js';
import { createClientAuthenticator } from './client-authenticator.js';
import { createDirectory } from './directory.js';
import { groupAdminRoutes, userAdminRoutes } from './directory-routes.js';
import { createGroupService } from './group-service.js';
import { createOidcDiscovery } from './oidc-discovery.js';
import { createPasswordChecks } from './password-checks.js';
import { createPrincipalCredentials } from './principal-credentials.js';
import { principalAdminRoutes } from './principal-routes.js';
import { createPrincipalService, PRINCIPAL_CACHE_MS } from './principal-service.js';
import { createPrincipalStore } from './principal-store.js';
import { type Claim, createReplayGuard } from './replay-guard.js';
import { createTokenService } from './token-service.js';
import { createGroupStore, createUserStore } from './user-store.js';
import { createUserService } from './user-service.js';

/**
 * The identity provider, wired: service principals and their credentials, users, groups, the
 * directory that says who a token's object id is now, and the token service. The composition
 * root (app.ts) builds this once.
 */
export function createIdentity(deps: {
  store: SecureStore;
  clock: Clock;
  signingKey: Parameters<typeof createTokenService>[0]['signingKey'];
  tenantId: () => string;
  /** The authority host (`https://localhost:8443`): issuer and token endpoint base. */
  issuerBase: () => string;
  /** The token audiences accepted now (the public port may be known only after listening). */
  audiences: () => readonly string[];
  /** The audiences of Resource Manager tokens (src/arm). */
  managementAudiences?: () => readonly string[];
  /** Hears each principal, user or group change (core/cache-invalidation.ts tells other processes). */
  onChange?: (objectId: string) => void;
  /** Most verified tokens kept (token-service.ts). */
  verifiedTokenLimit?: number;
  /** The installation-wide memory of used client assertions (storage/cluster.ts claims). */
  claim: Claim;
  /**
   * Where authorization codes wait to be redeemed, shared by every process and node. Not under
   * `store`: a code is no directory change, so issuing one must not drop other members' caches.
   */
  codeStore: SecureStore;
}) {
  const { clock } = deps;
  const changed = (objectId: string) => {
    directory.invalidate(objectId);
    deps.onChange?.(objectId);
  };
  const principals = createPrincipalService({
    store: createPrincipalStore(deps.store),
    clock,
    tenantId: deps.tenantId,
    changed,
  });
  const userStore = createUserStore(deps.store);
  const users = createUserService({ store: userStore, clock, changed, passwords: createPasswordChecks() });
  const groupStore = createGroupStore(deps.store);

  /** objectId (of a user, principal or group), a principal's clientId, or a user's UPN. */
  async function resolveObjectId(id: string): Promise<string | undefined> {
    if (!isUuid(id)) return (await userStore.getByUpn(id))?.objectId;
    const lower = id.toLowerCase();
    const principal = await principals.find(lower).catch((error: unknown) => {
      if (error instanceof NotFound) return undefined;
      throw error;
    });
    return (principal ?? (await userStore.get(lower)) ?? (await groupStore.get(lower)))?.objectId;
  }

  const groups = createGroupService({
    store: groupStore,
    clock,
    cacheMs: PRINCIPAL_CACHE_MS,
    resolveMember: resolveObjectId,
    // Memberships are cached with every principal: a group change drops them all.
    changed: () => directory.clearCache(),
  });
  const directory = createDirectory({
    clock,
    principal: principals.getByObjectId,
    user: userStore.get,
    groups,
  });
  const credentials = createPrincipalCredentials({ principals, clock });
  const discovery = createOidcDiscovery({ nowMs: () => clock.nowMs() });
  const replay = createReplayGuard({ claim: deps.claim });
  const tokenEndpoint = () => `${deps.issuerBase()}/${deps.tenantId()}/oauth2`;
  const clients = createClientAuthenticator({
    principals,
    discovery,
    replay,
    clock,
    assertionAudiences: () => [`${tokenEndpoint()}/v2.0/token`, `${tokenEndpoint()}/token`],
  });
  const codes = createAuthorizationCodes(deps.codeStore, clock);
  const tokens = createTokenService({
    clients,
    users,
    codes,
    directory,
    clock,
    signingKey: deps.signingKey,
    tenantId: deps.tenantId,
    issuerBase: deps.issuerBase,
    audiences: deps.audiences,
    managementAudiences: deps.managementAudiences,
    verifiedCacheLimit: deps.verifiedTokenLimit,
  });

  return {
    principals,
    users,
    groups,
    tokens,
    codes,
    directory,
    resolveObjectId,
    adminRoutes: (): AdminRoute[] => [
      ...principalAdminRoutes(principals, credentials, groups),
      ...userAdminRoutes(users, groups),
      ...groupAdminRoutes(groups),
    ],
    /** Another node changed principals, users or groups: their credentials and memberships are reloaded. */
    clearDirectoryCaches(): void {
      directory.clearCache();
      groups.clearCache();
    },
    /** On seal: nothing learned while unsealed stays in memory. */
    clearCaches(): void {
      directory.clearCache();
      groups.clearCache();
      tokens.clearCache();
      // The replay memory and the codes are in the store: a seal and unseal neither reopen the
      // window for a used assertion nor leave a code redeemable while sealed.
      discovery.clear();
    },
  };
}

export type Identity = ReturnType<typeof createIdentity>;
