import { HTML_PAGE_HEADERS, html, type SafeHtml } from '../lib/html.js';
import type { AuthorizeRequest } from './authorize-request.js';

/** The hidden fields that carry an authorization request through the sign-in form's POST. */
function requestFields(request: AuthorizeRequest): SafeHtml {
  const fields: Array<[string, string]> = [
    ['client_id', request.clientId],
    ['redirect_uri', request.redirectUri],
    ['response_type', 'code'],
    ['code_challenge', request.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['state', request.state],
    ['scope', request.scope],
  ];
  return html`${fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}`;
}

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Coffer</title>
        <link rel="stylesheet" href="/ui/assets/console.css" />
      </head>
      <body class="sign-in">
        <main class="card">${body}</main>
      </body>
    </html>`.value;
}

/** The sign-in form for users (password users of Coffer's identity provider). */
export function signInPage(request: AuthorizeRequest, options: { username?: string; error?: string } = {}) {
  return page(
    'Sign in',
    html`<h1>Sign in to Coffer</h1>
      ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
      <form method="post" autocomplete="on">
        ${requestFields(request)}
        <label
          >User name
          <input
            name="username"
            type="text"
            autocomplete="username"
            required
            maxlength="256"
            value="${options.username ?? ''}"
        /></label>
        <label
          >Password
          <input name="password" type="password" autocomplete="current-password" required maxlength="256"
        /></label>
        <button type="submit">Sign in</button>
      </form>`,
  );
}

/** An authorization request refused before any redirect: the user sees why, the client learns nothing. */
export function refusalPage(title: string, message: string): string {
  return page(
    title,
    html`<h1>${title}</h1>
      <p class="error" role="alert">${message}</p>`,
  );
}

export { HTML_PAGE_HEADERS };
