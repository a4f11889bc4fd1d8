import { html } from '../lib/html.js';

/** A page outside a session (signed out, sign-in failed, refused write): a message and a way on. */
export function plainPage(title: string, message: string, offerSignIn: boolean): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Coffer</title>
        <link rel="stylesheet" href="/ui/assets/console.css" />
      </head>
      <body class="sign-in">
        <main class="card">
          <h1>${title}</h1>
          <p role="alert">${message}</p>
          ${offerSignIn ? html`<p><a href="/ui/sign-in">Sign in</a></p>` : html`<p><a href="/ui/vaults">Back to the console</a></p>`}
        </main>
      </body>
    </html>`.value;
}
