import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { BadParameter } from '../errors/index.js';
import { newUuid } from '../lib/ids.js';
import { CLOCK_SKEW_S, joseReason } from './certificate-credential.js';
import { OAuthError } from './oauth-error.js';
import { DiscoveryError, type OidcDiscovery } from './oidc-discovery.js';
import type { FederatedCredentialRecord } from './types.js';

/** Entra's default audience for workload identity federation. */
export const DEFAULT_FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export function parseFederatedCredential(
  input: Record<string, unknown>,
  createdAt: string,
): FederatedCredentialRecord {
  const { name, issuer, subject, description } = input;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new BadParameter('name must be 3-120 letters, digits, _ or -, starting with a letter or digit.');
  }
  if (typeof issuer !== 'string' || !isHttpsUrl(issuer) || issuer.length > 600) {
    throw new BadParameter('issuer must be an https URL (the iss of the external tokens, exactly).');
  }
  if (typeof subject !== 'string' || subject.length < 1 || subject.length > 600) {
    throw new BadParameter('subject must be 1-600 characters (the sub of the external tokens, exactly).');
  }
  const audiences = input.audiences ?? [DEFAULT_FEDERATION_AUDIENCE];
  // As Entra: exactly one audience per federated credential.
  if (
    !Array.isArray(audiences) ||
    audiences.length !== 1 ||
    typeof audiences[0] !== 'string' ||
    !audiences[0]
  ) {
    throw new BadParameter(
      `audiences must hold exactly one audience (default ${DEFAULT_FEDERATION_AUDIENCE}).`,
    );
  }
  return {
    id: newUuid(),
    name,
    issuer,
    subject,
    audiences: [audiences[0].slice(0, 600)],
    description: typeof description === 'string' ? description.slice(0, 600) : '',
    createdAt,
  };
}

function isHttpsUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.username === '' && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

export function federatedView(record: FederatedCredentialRecord) {
  const { id, name, issuer, subject, audiences, description, createdAt } = record;
  return { id, name, issuer, subject, audiences, description, createdAt };
}

const refused = (reason: string) =>
  new OAuthError(401, 'invalid_client', `AADSTS70021: The federated assertion is not accepted: ${reason}.`);

/**
 * Checks an external OpenID Connect token presented as `client_assertion`: a federated
 * credential of the client must name its `iss` and `sub` exactly, before anything is fetched;
 * then the signature against the issuer's JWKS, `aud` (the credential's audience), `exp`, `nbf`.
 * Replays are not refused here: workloads (Kubernetes, CI) legitimately present one token
 * several times within its lifetime, as Entra allows.
 */
export async function verifyFederatedAssertion(input: {
  assertion: string;
  credentials: readonly FederatedCredentialRecord[];
  discovery: OidcDiscovery;
  nowMs: number;
}): Promise<FederatedCredentialRecord> {
  let claims;
  let kid;
  try {
    claims = decodeJwt(input.assertion);
    kid = decodeProtectedHeader(input.assertion).kid;
  } catch {
    throw refused('it is not a JWT');
  }
  const credential = input.credentials.find((c) => c.issuer === claims.iss && c.subject === claims.sub);
  if (!credential) {
    throw refused('no federated credential of this client matches its issuer and subject');
  }
  let keys;
  try {
    keys = await input.discovery.keysFor(credential.issuer, kid);
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    throw refused(`the issuer's signing keys could not be read (${error.message})`);
  }
  try {
    await jwtVerify(input.assertion, keys, {
      algorithms: ASYMMETRIC_ALGORITHMS,
      issuer: credential.issuer,
      subject: credential.subject,
      audience: credential.audiences,
      currentDate: new Date(input.nowMs),
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['exp'],
    });
  } catch (error) {
    throw refused(joseReason(error));
  }
  return credential;
}
