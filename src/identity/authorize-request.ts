import { CHALLENGE_PATTERN } from './authorization-codes.js';
import { registeredRedirects } from './console-client.js';

/** An authorization request that passed every check: safe to show the sign-in form for and to redirect to. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  scope: string;
}

/** A refused authorization request: shown to the user, never redirected (the redirect may be the attacker's). */
export class AuthorizeRefusal extends Error {
  constructor(readonly code: string) {
    super(`${code}: ${REFUSALS[code] ?? code}`);
  }
}

const REFUSALS: Record<string, string> = {
  unauthorized_client:
    'AADSTS700016: client_id is not a client registered with this identity provider (the console is c0ffe000-c0de-4c0e-9000-000000000001).',
  invalid_redirect_uri:
    "AADSTS50011: redirect_uri does not match a redirect URI registered for the client (exact match, this server's /ui/callback).",
  unsupported_response_type: 'AADSTS700054: response_type must be code.',
  invalid_code_challenge_method:
    'AADSTS501491: code_challenge_method must be S256 (plain is not accepted), with a 43-character base64url code_challenge.',
  invalid_state: 'AADSTS90014: state must be 1-512 printable ASCII characters.',
  invalid_scope: 'AADSTS90014: scope must be 1-1024 printable ASCII characters.',
};

const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * Checks an authorize request (query or form) in the order that keeps redirects safe: the client
 * and its exact redirect URI first; only then the rest. Every failure is refused on the page
 * itself (RFC 6749 4.1.2.1 allows redirecting later errors; showing them is never less safe).
 */
export function checkAuthorizeRequest(
  params: Record<string, unknown>,
  authorityHost: string,
): AuthorizeRequest {
  const text = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : '');
  const clientId = text('client_id').toLowerCase();
  const redirects = registeredRedirects(clientId, authorityHost);
  if (redirects.length === 0) throw new AuthorizeRefusal('unauthorized_client');
  const redirectUri = text('redirect_uri');
  if (!redirects.includes(redirectUri)) throw new AuthorizeRefusal('invalid_redirect_uri');
  if (text('response_type') !== 'code') throw new AuthorizeRefusal('unsupported_response_type');
  const codeChallenge = text('code_challenge');
  if (text('code_challenge_method') !== 'S256' || !CHALLENGE_PATTERN.test(codeChallenge))
    throw new AuthorizeRefusal('invalid_code_challenge_method');
  const state = text('state');
  if (state.length > 512 || !PRINTABLE.test(state)) throw new AuthorizeRefusal('invalid_state');
  const scope = text('scope');
  if (scope.length > 1024 || !PRINTABLE.test(scope)) throw new AuthorizeRefusal('invalid_scope');
  return { clientId, redirectUri, codeChallenge, state, scope };
}
