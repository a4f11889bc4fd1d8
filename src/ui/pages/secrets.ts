import { html, type SafeHtml } from '../../lib/html.js';
import { csrfField, lastSegment, parseTags, tagList, vaultPath, when, dataTable } from '../layout.js';
import {
  type ConsoleContext,
  type ConsolePage,
  outcome,
  type PageResult,
  refusal,
  firstPage,
} from '../page-types.js';

interface SecretItem {
  id: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes?: { enabled?: boolean; created?: number; updated?: number; exp?: number };
}

/** How long a revealed value stays on screen before the page's script hides it again. */
const REVEAL_SECONDS = 30;

export function secretPages(): ConsolePage[] {
  return [
    { method: 'GET', url: '/vaults/:vault/secrets', handler: listSecrets },
    { method: 'POST', url: '/vaults/:vault/secrets', handler: setSecret },
    { method: 'GET', url: '/vaults/:vault/secrets/:name', handler: (context) => secretDetail(context) },
    { method: 'POST', url: '/vaults/:vault/secrets/:name/reveal', handler: revealSecret },
    { method: 'POST', url: '/vaults/:vault/secrets/:name/tags', handler: updateTags },
    { method: 'POST', url: '/vaults/:vault/secrets/:name/delete', handler: deleteSecret },
  ];
}

async function listSecrets(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const listed = await firstPage<SecretItem>(context, vault, '/secrets');
  const rows = listed.ok
    ? listed.body.value.map((item) => {
        const name = lastSegment(item.id);
        return html`<tr>
          <td><a href="${vaultPath(vault, 'secrets', name)}">${name}</a></td>
          <td>${item.contentType ?? ''}</td>
          <td>${tagList(item.tags)}</td>
          <td>${item.attributes?.enabled === false ? 'disabled' : 'enabled'}</td>
          <td>${when(item.attributes?.updated)}</td>
        </tr>`;
      })
    : [];
  const body = html`${listed.ok ? '' : refusal(listed, `list the secrets of ${vault}`)}
    ${dataTable(['Name', 'Content type', 'Tags', 'State', 'Updated'], rows, 'No secrets to show.')}
    <h2>Set a secret</h2>
    <form method="post" action="${vaultPath(vault, 'secrets')}" class="panel" autocomplete="off">
      ${csrfField(context.session)}
      <label>Name <input name="name" required maxlength="127" pattern="[0-9a-zA-Z\\-]+" /></label>
      <label>Value <textarea name="value" required></textarea></label>
      <label>Content type <input name="contentType" maxlength="255" /></label>
      <label>Tags (name=value, one per line) <textarea name="tags"></textarea></label>
      <button type="submit">Set secret</button>
    </form>`;
  return { title: 'Secrets', vault, current: 'secrets', body, status: listed.ok ? 200 : listed.status };
}

async function setSecret(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const { name = '', value = '', contentType, tags = '' } = context.form;
  let parsedTags: Record<string, string>;
  try {
    parsedTags = parseTags(tags);
  } catch (error) {
    return {
      redirect: vaultPath(vault, 'secrets'),
      flash: { kind: 'error', text: (error as Error).message },
    };
  }
  const answer = await context.api({
    method: 'PUT',
    vault,
    path: `/secrets/${encodeURIComponent(name)}`,
    body: { value, contentType: contentType || undefined, tags: parsedTags },
  });
  const flash = outcome(answer, `set secret ${name}`, `Secret ${name} set.`);
  return { redirect: answer.ok ? vaultPath(vault, 'secrets', name) : vaultPath(vault, 'secrets'), flash };
}

/** The secret's versions and tags; `revealed` shows one version's value (after its own audited read). */
async function secretDetail(
  context: ConsoleContext,
  revealed?: { version: string; value: string },
): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const versions = await firstPage<SecretItem>(
    context,
    vault,
    `/secrets/${encodeURIComponent(name)}/versions`,
  );
  if (!versions.ok)
    return {
      title: name,
      vault,
      current: 'secrets',
      status: versions.status,
      body: refusal(versions, `read secret ${name}`),
    };
  const sorted = [...versions.body.value].sort(
    (a, b) => (b.attributes?.created ?? 0) - (a.attributes?.created ?? 0),
  );
  const latest = sorted[0];
  const rows = sorted.map((item) => {
    const version = lastSegment(item.id);
    const shown: SafeHtml | string =
      revealed?.version === version
        ? html`<output id="revealed-value" class="revealed mono" data-hide-after="${REVEAL_SECONDS}"
              >${revealed.value}</output
            >
            <button type="button" class="secondary" data-hide="revealed-value">Hide</button>`
        : html`<form method="post" action="${vaultPath(vault, 'secrets', name, 'reveal')}" class="inline">
            ${csrfField(context.session)} <input type="hidden" name="version" value="${version}" /><button
              type="submit"
              class="secondary"
            >
              Reveal
            </button>
          </form>`;
    return html`<tr>
      <td class="mono">${version}</td>
      <td>${when(item.attributes?.created)}</td>
      <td>${item.contentType ?? ''}</td>
      <td>${tagList(item.tags)}</td>
      <td>${shown}</td>
    </tr>`;
  });
  const tagText = Object.entries(latest?.tags ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  const body = html`<p>
      Each reveal is its own read of the value, recorded in the audit log; the value hides again after
      ${REVEAL_SECONDS} seconds.
    </p>
    <table>
      <thead>
        <tr>
          <th>Version</th>
          <th>Created</th>
          <th>Content type</th>
          <th>Tags</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    <h2>Tags of the current version</h2>
    <form method="post" action="${vaultPath(vault, 'secrets', name, 'tags')}" class="panel">
      ${csrfField(context.session)}
      <label>Tags (name=value, one per line) <textarea name="tags">${tagText}</textarea></label
      ><button type="submit">Save tags</button>
    </form>
    <h2>New version</h2>
    <form method="post" action="${vaultPath(vault, 'secrets')}" class="panel" autocomplete="off">
      ${csrfField(context.session)} <input type="hidden" name="name" value="${name}" /><label
        >Value <textarea name="value" required></textarea>
      </label>
      <label
        >Content type <input name="contentType" maxlength="255" value="${latest?.contentType ?? ''}"
      /></label>
      <button type="submit">Set new version</button>
    </form>
    <form
      method="post"
      action="${vaultPath(vault, 'secrets', name, 'delete')}"
      class="panel"
      data-confirm="Delete secret ${name}? It can be recovered until it is purged."
    >
      ${csrfField(context.session)}<button type="submit" class="danger">Delete secret</button>
    </form>`;
  return { title: `Secret ${name}`, vault, current: 'secrets', body };
}

async function revealSecret(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const version = context.form.version ?? '';
  const read = await context.api<{ value?: string }>({
    method: 'GET',
    vault,
    path: `/secrets/${encodeURIComponent(name)}/${encodeURIComponent(version)}`,
  });
  if (!read.ok || typeof read.body.value !== 'string')
    return {
      redirect: vaultPath(vault, 'secrets', name),
      flash: outcome(read, `read the value of ${name}`, ''),
    };
  return secretDetail(context, { version, value: read.body.value });
}

async function updateTags(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  let tags: Record<string, string>;
  try {
    tags = parseTags(context.form.tags ?? '');
  } catch (error) {
    return {
      redirect: vaultPath(vault, 'secrets', name),
      flash: { kind: 'error', text: (error as Error).message },
    };
  }
  const answer = await context.api({
    method: 'PATCH',
    vault,
    path: `/secrets/${encodeURIComponent(name)}`,
    body: { tags },
  });
  return {
    redirect: vaultPath(vault, 'secrets', name),
    flash: outcome(answer, `change the tags of ${name}`, 'Tags saved.'),
  };
}

async function deleteSecret(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const answer = await context.api({ method: 'DELETE', vault, path: `/secrets/${encodeURIComponent(name)}` });
  return {
    redirect: answer.ok ? vaultPath(vault, 'secrets') : vaultPath(vault, 'secrets', name),
    flash: outcome(
      answer,
      `delete ${name}`,
      `Secret ${name} deleted; it is listed under Deleted until purged.`,
    ),
  };
}
