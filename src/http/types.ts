import type { Authority } from '../lib/host.js';
import type { AuthenticatedPrincipal } from '../identity/types.js';
import type { VaultRecord } from '../vaults/types.js';

declare module 'fastify' {
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
  }
}
