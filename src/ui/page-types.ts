import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../lib/html.js';
import type { ApiAnswer, ConsoleApi } from './api.js';
import type { ConsoleSession } from './sessions.js';

export type ApiCall = Parameters<ConsoleApi['call']>[0];

/** What a console page or action sees: the signed-in session, its input, and the API as this user. */
export interface ConsoleContext {
  request: FastifyRequest;
  session: ConsoleSession;
  params: Record<string, string>;
  query: Record<string, string>;
  /** The posted form of an action (empty for pages). */
  form: Record<string, string>;
  api: <T>(call: ApiCall) => Promise<ApiAnswer<T>>;
}

export type PageResult =
  | { title: string; body: SafeHtml; vault?: string; current?: string; status?: number }
  | { redirect: string; flash?: ConsoleSession['flash'] }
  | { download: { filename: string; contentType: string; content: string } };

export interface ConsolePage {
  method: 'GET' | 'POST';
  /** Under /ui. */
  url: string;
  handler: (context: ConsoleContext) => Promise<PageResult>;
}

/** A refused or failed API call, in words a user acts on: what was refused and why. */
export function refusal(answer: ApiAnswer, what: string): SafeHtml {
  const lead =
    answer.status === 403
      ? `You are not allowed to ${what}.`
      : answer.status === 404
        ? `Not found: could not ${what}.`
        : `Could not ${what}.`;
  return html`<p class="error" role="alert">${lead} ${answer.error ?? ''}</p>`;
}

/** The flash message after a write: success text, or the refusal. */
export function outcome(answer: ApiAnswer, what: string, done: string): ConsoleSession['flash'] {
  if (answer.ok) return { kind: 'ok', text: done };
  const lead = answer.status === 403 ? `You are not allowed to ${what}.` : `Could not ${what}.`;
  return { kind: 'error', text: `${lead} ${answer.error ?? ''}` };
}

/** Lists show their first page only (docs/console.md): this many items. */
const LIST_PAGE_SIZE = '25';

/** The first page of a Key Vault listing (`{ value: [...] }`) at `path` of `vault`, as this user. */
export function firstPage<T>(context: ConsoleContext, vault: string, path: string) {
  return context.api<{ value: T[] }>({ method: 'GET', vault, path, query: { maxresults: LIST_PAGE_SIZE } });
}
