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
  /** Absent on records written before certificate credentials existed. */
  certificates?: CertificateCredentialRecord[];
  federatedCredentials?: FederatedCredentialRecord[];
}

/** A registered X.509 certificate whose key may sign `client_assertion` JWTs (public part only). */
export interface CertificateCredentialRecord {
  id: string;
  displayName: string;
  /** SHA-1 and SHA-256 of the DER certificate, base64url: what `x5t` and `x5t#S256` carry. */
  x5t: string;
  x5tS256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  pem: string;
  createdAt: string;
}

/** Trust in an external OpenID Connect issuer's tokens for one subject (Entra's federated identity credential). */
export interface FederatedCredentialRecord {
  id: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string;
  createdAt: string;
}

/** Salted scrypt hash of a human password, with its cost parameters so they can be raised later. */
export interface PasswordHashRecord {
  /** Changes with every new password: tokens carry it, so a password change revokes them. */
  id: string;
  salt: string;
  hash: string;
  N: number;
  r: number;
  p: number;
  changedAt: string;
}

/** A user as stored (behind the barrier): signs in with a password through the token endpoint. */
export interface UserRecord {
  objectId: string;
  userPrincipalName: string;
  displayName: string;
  administrator: boolean;
  enabled: boolean;
  createdAt: string;
  password: PasswordHashRecord;
}

/** A group: its members are object ids of users, service principals or other groups. */
export interface GroupRecord {
  objectId: string;
  displayName: string;
  description: string;
  members: string[];
  createdAt: string;
}

/** Who a verified access token speaks for, as the request pipeline sees it. */
export interface AuthenticatedPrincipal {
  objectId: string;
  kind: 'ServicePrincipal' | 'User';
  /** Service principals only. */
  clientId?: string;
  /** Users only: what audit records name them by. */
  userPrincipalName?: string;
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
