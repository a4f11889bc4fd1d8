/**
 * The web console's registration with the identity provider: a public client (PKCE, no secret)
 * whose only redirect is the console's callback on this server's own origin. Registered here,
 * not in the store: it comes with every installation and cannot be pointed elsewhere.
 */
export const CONSOLE_CLIENT_ID = 'c0ffe000-c0de-4c0e-9000-000000000001';
export const CONSOLE_CALLBACK_PATH = '/ui/callback';

/** The redirect URIs registered for a client id (exact strings; no patterns, no prefixes). */
export function registeredRedirects(clientId: string, authorityHost: string): readonly string[] {
  return clientId.toLowerCase() === CONSOLE_CLIENT_ID ? [`${authorityHost}${CONSOLE_CALLBACK_PATH}`] : [];
}
