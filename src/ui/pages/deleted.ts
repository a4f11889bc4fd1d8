import { html } from '../../lib/html.js';
import { csrfField, lastSegment, vaultPath, when, dataTable } from '../layout.js';
import {
  type ConsoleContext,
  type ConsolePage,
  outcome,
  type PageResult,
  refusal,
  firstPage,
} from '../page-types.js';

interface DeletedItem {
  recoveryId?: string;
  id?: string;
  kid?: string;
  deletedDate?: number;
  scheduledPurgeDate?: number;
}

const KINDS = ['secrets', 'keys', 'certificates'] as const;
type Kind = (typeof KINDS)[number];

/** Soft-deleted secrets, keys and certificates, each with recover and purge. */
export function deletedPages(): ConsolePage[] {
  return [
    { method: 'GET', url: '/vaults/:vault/deleted', handler: deletedPage },
    {
      method: 'POST',
      url: '/vaults/:vault/deleted/:kind/:name/recover',
      handler: (context) => act(context, 'recover'),
    },
    {
      method: 'POST',
      url: '/vaults/:vault/deleted/:kind/:name/purge',
      handler: (context) => act(context, 'purge'),
    },
  ];
}

async function deletedPage(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const sections = await Promise.all(
    KINDS.map(async (kind) => {
      const listed = await firstPage<DeletedItem>(context, vault, `/deleted${kind}`);
      if (!listed.ok)
        return html`<h2>Deleted ${kind}</h2>
          ${refusal(listed, `list the deleted ${kind} of ${vault}`)}`;
      const rows = listed.body.value.map((item) => {
        const name = lastSegment(item.recoveryId ?? item.kid ?? item.id);
        const action = (verb: 'recover' | 'purge', label: string, confirm?: string) =>
          html`<form
            method="post"
            action="${vaultPath(vault, 'deleted', kind, name, verb)}"
            class="inline"
            ${confirm ? html`data-confirm="${confirm}"` : ''}
          >
            ${csrfField(context.session)}<button
              type="submit"
              class="${verb === 'purge' ? 'danger' : 'secondary'}"
            >
              ${label}
            </button>
          </form>`;
        return html`<tr>
          <td>${name}</td>
          <td>${when(item.deletedDate)}</td>
          <td>${when(item.scheduledPurgeDate)}</td>
          <td>
            ${action('recover', 'Recover')}
            ${action('purge', 'Purge', `Purge ${name} for good? This cannot be undone.`)}
          </td>
        </tr>`;
      });
      return html`<h2>Deleted ${kind}</h2>
        ${dataTable(['Name', 'Deleted', 'Purged automatically', ''], rows, 'None.')}`;
    }),
  );
  return { title: 'Deleted objects', vault, current: 'deleted', body: html`${sections}` };
}

async function act(context: ConsoleContext, verb: 'recover' | 'purge'): Promise<PageResult> {
  const { vault, kind, name } = context.params as { vault: string; kind: string; name: string };
  if (!KINDS.includes(kind as Kind))
    return { redirect: vaultPath(vault, 'deleted'), flash: { kind: 'error', text: `Unknown kind ${kind}.` } };
  const path = `/deleted${kind}/${encodeURIComponent(name)}`;
  const answer = await context.api(
    verb === 'recover'
      ? { method: 'POST', vault, path: `${path}/recover` }
      : { method: 'DELETE', vault, path },
  );
  const done = verb === 'recover' ? `${name} recovered.` : `${name} purged.`;
  return { redirect: vaultPath(vault, 'deleted'), flash: outcome(answer, `${verb} ${name}`, done) };
}
