import type { Barrier } from '../barrier/barrier.js';
import type { AbuseGuard } from './abuse-guard.js';
import { CofferError, Forbidden, NotFound, Sealed, Unauthorized } from '../errors/index.js';
import type { TokenPlane, TokenService } from '../identity/token-service.js';
import type { AuthenticatedPrincipal } from '../identity/types.js';
import type { Action } from '../policy/actions.js';
import { type AuthorizationContext, authorize, type Decision } from '../policy/authorize.js';
import { clientAddress, networkAllows } from '../policy/network-rules.js';
import type { RoleService } from '../policy/role-service.js';
import type { VaultService } from '../vaults/service.js';
import type { VaultRecord } from '../vaults/types.js';

export interface PipelineSettings {
  baseDomain: string;
  /** Host names that address the default vault (the bare host). */
  bareHosts: ReadonlySet<string>;
  defaultVault: string | undefined;
  authorityHost: () => string;
  /**
   * The `resource` of the 401 challenge: `https://{baseDomain}`, with the public port when it is
   * not 443. Python's SDK accepts a challenge only when the request's host:port ends with
   * `.{resource host:port}`; JavaScript's compares host names only, so the port suits both.
   */
  challengeResource: () => string;
  /** Proxies whose X-Forwarded-For is believed when applying network rules. */
  trustedProxies: readonly string[];
}

/**
 * The request pipeline, in the order every data-plane request meets it: sealed? ->
 * authenticate (before the body is read) -> choose the vault -> authorize. HTTP plugins call
 * these steps; the rules live here, not in route handlers.
 */
export function createPipeline(deps: {
  barrier: Pick<Barrier, 'isSealed'>;
  tokens: Pick<TokenService, 'authenticate'>;
  vaults: Pick<VaultService, 'find'>;
  /** Role assignments, cached for at most ROLE_CACHE_MS (role-service.ts). */
  roles: Pick<RoleService, 'grantsFor'>;
  /** Throttles callers whose authorizations keep being refused. */
  guard: Pick<AbuseGuard, 'authorization'>;
  tenantId: () => string;
  settings: PipelineSettings;
}) {
  const { settings } = deps;

  function challenge(): Record<string, string> {
    return {
      'www-authenticate': `Bearer authorization="${settings.authorityHost()}/${deps.tenantId()}", resource="${settings.challengeResource()}"`,
    };
  }

  /** Resource Manager's refusal: its codes, and a challenge naming where to get a token. */
  function managementRefusal(code: string, message: string, description: string): CofferError {
    return new CofferError(401, code, message, {
      'www-authenticate': `Bearer authorization_uri="${settings.authorityHost()}/${deps.tenantId()}", error="invalid_token", error_description="${description}"`,
    });
  }

  return {
    requireUnsealed(): void {
      if (deps.barrier.isSealed) throw new Sealed();
    },

    /** `plane`: a vault (data plane, admin API) or Resource Manager; each takes only its own tokens. */
    async authenticate(
      authorization: string | undefined,
      plane: TokenPlane = 'vault',
    ): Promise<AuthenticatedPrincipal> {
      const match = authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match && plane === 'management')
        throw managementRefusal(
          'AuthenticationFailed',
          "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.",
          "The authentication failed because of missing 'Authorization' header.",
        );
      if (!match) throw new Unauthorized('AKV10000: Request is missing a Bearer or PoP token.', challenge());
      const principal = await deps.tokens.authenticate(match[1]!, plane);
      if (!principal && plane === 'management')
        throw managementRefusal(
          'InvalidAuthenticationToken',
          `The access token is not valid: it is expired, malformed, not for Resource Manager (request it for ${settings.authorityHost()}/.default), or its principal was removed or disabled.`,
          'The access token is invalid.',
        );
      if (!principal) {
        throw new Unauthorized(
          'AKV10032: The access token is not valid: it is expired, malformed, for another audience, or its principal was removed or disabled. Request a new token.',
          challenge(),
        );
      }
      return principal;
    },

    /** The vault a host name addresses; 404 VaultNotFound when there is none. */
    async resolveVault(hostname: string): Promise<VaultRecord> {
      const host = hostname.toLowerCase();
      const suffix = `.${settings.baseDomain}`;
      let name: string | undefined;
      if (host.endsWith(suffix)) name = host.slice(0, -suffix.length);
      else if (settings.bareHosts.has(host)) name = settings.defaultVault;
      const vault = name && !name.includes('.') ? await deps.vaults.find(name) : undefined;
      if (!vault)
        throw new NotFound(
          'VaultNotFound',
          `No vault is served at host '${hostname.slice(0, 100)}'. Create it with: coffer vault create NAME`,
        );
      return vault;
    },

    /** A vault's firewall: 403 ForbiddenByFirewall for an address its network rules do not allow. */
    /** Where a request comes from: the peer, or X-Forwarded-For from a trusted proxy. */
    clientAddress(peerAddress: string | undefined, forwardedFor: string | string[] | undefined): string {
      const header = typeof forwardedFor === 'string' ? forwardedFor : undefined;
      return clientAddress(peerAddress ?? '', header, settings.trustedProxies);
    },

    checkNetwork(vault: VaultRecord, address: string): void {
      if (!networkAllows(vault.networkAcls, address)) {
        throw new Forbidden(
          `Client address ${address} is not authorized by the network rules of vault ${vault.name}. Add it with: coffer vault network-rule add ${vault.name} --ip-address ${address}`,
          'ForbiddenByFirewall',
        );
      }
    },

    /**
     * The one gate every operation passes: loads the caller's role assignments (and its groups'),
     * hands them with the vault to the pure authorize(), and throws Forbidden when it says no.
     */
    async authorize(
      principal: AuthenticatedPrincipal,
      action: Action,
      scope: string,
      extra: Omit<AuthorizationContext, 'grants'> = {},
      address = '',
      /** Hears the decision, allowed or not, for the audit record. */
      onDecision?: (decision: Decision) => void,
    ): Promise<void> {
      await deps.guard.authorization(principal.objectId, address, async () => {
        const grants = await deps.roles.grantsFor(principal);
        const decision = authorize(principal, action, scope, { ...extra, grants });
        onDecision?.(decision);
        if (!decision.allowed)
          throw new Forbidden(
            `Caller is not authorized to perform action '${action}' on '${scope}'. ${decision.reason}`,
            'ForbiddenByRbac',
          );
      });
    },

    /**
     * A listing of things each authorized at its own scope (vaults): the items whose scope allows
     * the caller `action`, each decided by the same authorize() as any request, in order. A caller
     * allowed at none of them is refused as at `refusalScope` (403, counted like any refusal): a
     * list that would always come back empty tells less than the permission it lacks. The audit
     * record keeps the decision of the first item shown.
     */
    async visible<T>(
      principal: AuthenticatedPrincipal,
      action: Action,
      items: readonly T[],
      scopeOf: (item: T) => string,
      refusalScope: string,
      address = '',
      onDecision?: (decision: Decision) => void,
    ): Promise<T[]> {
      return deps.guard.authorization(principal.objectId, address, async () => {
        const grants = await deps.roles.grantsFor(principal);
        // Allowed where the items are is allowed for every item: no need to decide each.
        const whole = authorize(principal, action, refusalScope, { grants });
        if (whole.allowed) {
          onDecision?.(whole);
          return [...items];
        }
        const shown: T[] = [];
        for (const item of items) {
          const decision = authorize(principal, action, scopeOf(item), { grants });
          if (!decision.allowed) continue;
          if (shown.length === 0) onDecision?.(decision);
          shown.push(item);
        }
        if (shown.length === 0) {
          onDecision?.(whole);
          throw new Forbidden(
            `Caller is not authorized to perform action '${action}' on '${refusalScope}' or on any item under it. ${whole.reason}`,
            'ForbiddenByRbac',
          );
        }
        return shown;
      });
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
