import type { Authority } from '../lib/host.js';
import type { AuthenticatedPrincipal } from '../identity/types.js';
import type { Decision } from '../policy/authorize.js';
import type { VaultRecord } from '../vaults/types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit operationName of the route (docs/audit.md). */
    operation?: string;
    /** false: the route is not audited (health checks, public discovery documents). */
    audit?: boolean;
    /** A data-plane route: a request refused before its vault was looked up names the vault of its host. */
    dataPlane?: boolean;
    /**
     * A POST that changes nothing stored (a key's sign, encrypt, a backup): its audit record is
     * kept like a read's (written before the answer, synced within `audit.syncIntervalMs`),
     * not waited for on the disk like a change's.
     */
    readOnly?: boolean;
  }

  interface FastifyRequest {
    /** The vault chosen by the Host header (data-plane routes only). */
    vault: VaultRecord;
    /** Who the bearer token speaks for (authenticated routes only). */
    principal: AuthenticatedPrincipal;
    /** The caller's address (the peer, or X-Forwarded-For from a trusted proxy): data-plane routes. */
    clientAddress: string;
    /** The Host header, parsed and checked (server.ts): the only source of host names in responses. */
    authority: Authority;
    /** `https://{host}[:{port}]` from `authority`: the base of every identifier we return. */
    baseUrl: string;
    /** A fresh UUID per request, sent as `x-ms-request-id`: what logs and records correlate on. */
    requestId: string;
    /** The authorization decision, allowed or not, once authorize() has run: for the audit record. */
    authorization: Decision | undefined;
    /** What the request acts on (the authorization scope), for the audit record's object id. */
    auditScope: string | undefined;
    /** For requests that authenticate a caller themselves (the token endpoint): who asked. */
    auditIdentity: { objectId?: string; appId?: string; upn?: string } | undefined;
    /**
     * Listing routes only (AdminRoute.listing): the items the caller may see, each authorized at
     * its own scope (Pipeline.visible); refuses a caller who may see none.
     */
    visible: <T>(items: readonly T[], scopeOf: (item: T) => string) => Promise<T[]>;
  }
}
