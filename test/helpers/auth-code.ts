import { createHash, randomBytes } from 'node:crypto';
import { type RawResponse, rawRequest } from './http.js';

export const CONSOLE_CLIENT_ID = 'c0ffe000-c0de-4c0e-9000-000000000001';
export const VAULT_SCOPE = 'https://vault.localhost/.default';

/** A PKCE pair (RFC 7636, S256) as a client makes one. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorization endpoint and token endpoint of a dev server, driven by hand as a browser and client would. */
export function authCodeClient(facts: { authorityHost: string; tenantId: string }) {
  const base = `${facts.authorityHost}/${facts.tenantId}/oauth2/v2.0`;
  const callback = `${facts.authorityHost}/ui/callback`;
  const form = (fields: Record<string, string>, localAddress?: string, freshConnection = false) => ({
    method: 'POST',
    localAddress,
    freshConnection,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const authorizeParams = (challenge: string, changes: Record<string, string> = {}) => ({
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: callback,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'state-1',
    scope: VAULT_SCOPE,
    ...changes,
  });
  return {
    callback,
    authorizeParams,
    showForm: (params: Record<string, string>): Promise<RawResponse> =>
      rawRequest(`${base}/authorize?${new URLSearchParams(params).toString()}`),
    signIn: (params: Record<string, string>, username: string, password: string): Promise<RawResponse> =>
      rawRequest(`${base}/authorize`, form({ ...params, username, password })),
    /**
     * From `localAddress` when given (a second loopback address is a second client for the
     * throttle); `freshConnection`: on a connection of its own, so any worker may answer.
     */
    redeem: (
      fields: Record<string, string>,
      localAddress?: string,
      freshConnection = false,
    ): Promise<RawResponse> =>
      rawRequest(
        `${base}/token`,
        form(
          {
            grant_type: 'authorization_code',
            client_id: CONSOLE_CLIENT_ID,
            redirect_uri: callback,
            ...fields,
          },
          localAddress,
          freshConnection,
        ),
      ),
    /** Signs in and returns the code from the redirect (fails the test when there is none). */
    async code(username: string, password: string, challenge: string): Promise<string> {
      const response = await this.signIn(authorizeParams(challenge), username, password);
      const location = String(response.headers.location ?? '');
      const code = location ? new URL(location).searchParams.get('code') : null;
      if (response.status !== 303 || !code)
        throw new Error(`sign-in failed: ${response.status} ${response.text}`);
      return code;
    },
  };
}
