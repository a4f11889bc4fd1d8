import { decodeJwt } from 'jose';
import type { Clock } from '../lib/clock.js';
import { verifyCertificateAssertion } from './certificate-credential.js';
import { verifyFederatedAssertion } from './federated-credential.js';
import { OAuthError } from './oauth-error.js';
import type { OidcDiscovery } from './oidc-discovery.js';
import type { PrincipalService } from './principal-service.js';
import type { ReplayGuard } from './replay-guard.js';
import type { PrincipalRecord } from './types.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface ClientCredentials {
  clientId: string | undefined;
  clientSecret: string | undefined;
  clientAssertionType: string | undefined;
  clientAssertion: string | undefined;
}

/** The authenticated client, and the credential that proved it (tokens carry its id). */
export interface AuthenticatedClient {
  record: PrincipalRecord;
  credentialId: string;
}

const unknownClient = () =>
  new OAuthError(
    401,
    'invalid_client',
    'AADSTS7000215: Invalid client credentials, or the client is unknown or disabled.',
  );

/**
 * Client authentication at the token endpoint: a client secret, or a `client_assertion` JWT.
 * An assertion whose `iss` is the client itself is signed with a registered certificate (the
 * client made it); any other `iss` is an external OpenID Connect issuer, which a federated
 * credential must trust.
 */
export function createClientAuthenticator(deps: {
  principals: Pick<PrincipalService, 'authenticateSecret' | 'enabledByClientId'>;
  discovery: OidcDiscovery;
  replay: ReplayGuard;
  clock: Clock;
  /** URLs a certificate assertion's `aud` may name: this tenant's token endpoint. */
  assertionAudiences: () => string[];
}) {
  async function byAssertion(clientId: string, assertion: string): Promise<AuthenticatedClient> {
    const record = await deps.principals.enabledByClientId(clientId);
    if (!record) throw unknownClient();
    let issuer: unknown;
    try {
      issuer = decodeJwt(assertion).iss;
    } catch {
      throw new OAuthError(401, 'invalid_client', 'AADSTS50027: client_assertion is not a valid JWT.');
    }
    const nowMs = deps.clock.nowMs();
    if (issuer === clientId) {
      const verified = await verifyCertificateAssertion({
        assertion,
        clientId,
        certificates: record.certificates ?? [],
        audiences: deps.assertionAudiences(),
        nowMs,
      });
      // Only a verified assertion is remembered, so nobody can block another client's jti.
      await deps.replay.accept(clientId, verified.jti, verified.expiresAtMs, nowMs);
      return { record, credentialId: verified.credential.id };
    }
    const credential = await verifyFederatedAssertion({
      assertion,
      credentials: record.federatedCredentials ?? [],
      discovery: deps.discovery,
      nowMs,
    });
    return { record, credentialId: credential.id };
  }

  return {
    async authenticate(request: ClientCredentials): Promise<AuthenticatedClient> {
      const { clientId, clientSecret, clientAssertion, clientAssertionType } = request;
      if (!clientId || (!clientSecret && !clientAssertion)) {
        throw new OAuthError(
          400,
          'invalid_request',
          'AADSTS900144: The request body must contain client_id and either client_secret or client_assertion.',
        );
      }
      if (clientSecret && clientAssertion) {
        throw new OAuthError(
          400,
          'invalid_request',
          'AADSTS700023: Send client_secret or client_assertion, not both.',
        );
      }
      if (clientAssertion) {
        if (clientAssertionType !== JWT_BEARER_ASSERTION) {
          throw new OAuthError(
            400,
            'invalid_request',
            `AADSTS700024: client_assertion_type must be ${JWT_BEARER_ASSERTION}.`,
          );
        }
        return byAssertion(clientId, clientAssertion);
      }
      const client = await deps.principals.authenticateSecret(clientId, clientSecret!);
      if (!client) throw unknownClient();
      return client;
    },
  };
}

export type ClientAuthenticator = ReturnType<typeof createClientAuthenticator>;
