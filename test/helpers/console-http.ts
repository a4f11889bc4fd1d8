import { type RawResponse, rawRequest } from './http.js';

/** The `name=value` of a Set-Cookie header for `name`, with its attributes. */
export function setCookie(response: RawResponse, name: string): string | undefined {
  const headers = [response.headers['set-cookie'] ?? []].flat();
  return headers.find((header) => header.startsWith(`${name}=`));
}

export const cookieValue = (header: string | undefined) =>
  header?.split(';')[0]?.split('=').slice(1).join('=') ?? '';

/**
 * The console's sign-in driven by hand as a browser would (every response kept): /ui/sign-in,
 * the authorize form's POST, the callback. Returns the session cookie value. `freshConnection`:
 * each step on a connection of its own, so with `--workers N` the steps land on any worker.
 */
export async function consoleSignIn(
  origin: string,
  username: string,
  password: string,
  freshConnection = false,
): Promise<{ session: string; responses: RawResponse[] }> {
  const start = await rawRequest(`${origin}/ui/sign-in`, { freshConnection });
  const signInCookie = cookieValue(setCookie(start, '__Host-coffer-sign-in'));
  const authorize = new URL(String(start.headers.location));
  const form = new URLSearchParams(Object.fromEntries(authorize.searchParams));
  form.set('username', username);
  form.set('password', password);
  const signedIn = await rawRequest(`${authorize.origin}${authorize.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    freshConnection,
  });
  const callback = await rawRequest(String(signedIn.headers.location), {
    headers: { cookie: `__Host-coffer-sign-in=${signInCookie}` },
    freshConnection,
  });
  const session = cookieValue(setCookie(callback, '__Host-coffer-session'));
  if (callback.status !== 303 || !session)
    throw new Error(`console sign-in failed: ${callback.status} ${callback.text}`);
  return { session, responses: [start, signedIn, callback] };
}

/** A console page or form post with the session cookie. */
export function consoleRequest(
  url: string,
  session: string,
  options: { form?: Record<string, string>; origin?: string; freshConnection?: boolean } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { cookie: `__Host-coffer-session=${session}` };
  if (options.origin) headers.origin = options.origin;
  const { freshConnection } = options;
  if (!options.form) return rawRequest(url, { headers, freshConnection });
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return rawRequest(url, {
    method: 'POST',
    headers,
    body: new URLSearchParams(options.form).toString(),
    freshConnection,
  });
}

/** The CSRF token in a console page's forms. */
export function csrfOf(page: RawResponse): string {
  const match = page.text.match(/name="_csrf" value="([^"]+)"/);
  if (!match?.[1]) throw new Error(`no CSRF token on the page: ${page.text.slice(0, 300)}`);
  return match[1];
}
