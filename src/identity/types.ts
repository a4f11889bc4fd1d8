import type { SecretHash } from '../crypto/secret-hash.js';

export interface ClientSecretRecord extends SecretHash {
  id: string;
  createdAt: string;
}

/** A service principal as stored (behind the barrier). */
export interface PrincipalRecord {
  objectId: string;
  clientId: string;
  name: string;
  /** Until the role model lands: administrators may do everything, others nothing. */
  administrator: boolean;
  enabled: boolean;
  createdAt: string;
  secrets: ClientSecretRecord[];
}

/** Who a verified access token speaks for, as the request pipeline sees it. */
export interface AuthenticatedPrincipal {
  objectId: string;
  kind: 'ServicePrincipal' | 'User';
  /** Service principals only. */
  clientId?: string;
  /** Installation administrators manage Coffer itself (vaults, principals, roles, seal). */
  administrator: boolean;
  /** Object ids of the groups the principal belongs to: their role assignments count too. */
  groups: string[];
}

/** Shown once, when a principal is made or its secret reset. */
export interface IssuedCredentials {
  objectId: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  name: string;
}
