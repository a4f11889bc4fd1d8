import { html, type SafeHtml } from '../lib/html.js';
import type { ConsoleSession } from './sessions.js';

const VAULT_PAGES: Array<[string, string]> = [
  ['secrets', 'Secrets'],
  ['keys', 'Keys'],
  ['certificates', 'Certificates'],
  ['access', 'Access'],
  ['deleted', 'Deleted'],
];

/** `/ui/vaults/{vault}/{page}`: every vault page's address, its parts encoded. */
export function vaultPath(vault: string, ...parts: string[]): string {
  return ['/ui/vaults', vault, ...parts]
    .map((part, index) => (index === 0 ? part : encodeURIComponent(part)))
    .join('/');
}

/** The hidden field every form carries: the session's CSRF token. */
export function csrfField(session: ConsoleSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
}

/** The page shell: top bar (signed-in user, sign-out), the vault's tabs, one-shot message, content. */
export function layout(options: {
  title: string;
  session: ConsoleSession;
  body: SafeHtml;
  vault?: string;
  current?: string;
  flash?: ConsoleSession['flash'];
}): string {
  const { session, vault, flash } = options;
  const tabs = vault
    ? html`<nav class="vault" aria-label="Vault ${vault}">
        <strong>${vault}</strong>${VAULT_PAGES.map(
          ([page, label]) =>
            html`<a href="${vaultPath(vault, page)}" class="${page === options.current ? 'current' : ''}"
              >${label}</a
            >`,
        )}
      </nav>`
    : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · Coffer</title>
        <link rel="stylesheet" href="/ui/assets/console.css" />
        <script src="/ui/assets/console.js" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui/vaults">Coffer</a> <a href="/ui/vaults">Vaults</a
          ><a href="/ui/audit">Audit</a><a href="/ui/seal">Seal status</a>
          <span class="user"
            >Signed in as <strong>${session.userPrincipalName}</strong>
            <form method="post" action="/ui/sign-out" class="inline">
              ${csrfField(session)}<button type="submit">Sign out</button>
            </form></span
          >
        </header>
        ${tabs}
        <main>
          ${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''}
          <h1>${options.title}</h1>
          ${options.body}
        </main>
      </body>
    </html>`.value;
}

/**
 * A table of what a page lists: its column headers, one row per item (each a `<tr>` of as many
 * cells), and the sentence shown in a single full-width row when there is none.
 */
export function dataTable(headers: string[], rows: SafeHtml[], whenEmpty: string): SafeHtml {
  return html`<table>
    <thead>
      <tr>
        ${headers.map((header) => html`<th>${header}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${
        rows.length
          ? rows
          : html`<tr>
              <td colspan="${headers.length}">${whenEmpty}</td>
            </tr>`
      }
    </tbody>
  </table>`;
}

/** Tags as chips: `env=prod`. */
export function tagList(tags: Record<string, string> | undefined): SafeHtml {
  return html`${Object.entries(tags ?? {}).map(([name, value]) => html`<span class="tag">${name}=${value}</span>`)}`;
}

/** Azure's Unix-seconds times as ISO dates, or a dash. */
export function when(seconds: number | undefined): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '—';
}

/** `k=v` lines (or `k=v, k2=v2`) into tags; malformed entries are reported, not dropped silently. */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const entry of text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean)) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`Tag "${entry}" is not name=value.`);
    tags[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return tags;
}

/** The last path segment of an Azure object id: the name or the version. */
export function lastSegment(id: string | undefined, fromEnd = 0): string {
  const parts = (id ?? '').split('/').filter(Boolean);
  return parts[parts.length - 1 - fromEnd] ?? '';
}
