import { html } from '../../lib/html.js';
import { vaultPath, dataTable } from '../layout.js';
import { type ConsoleContext, type ConsolePage, type PageResult, refusal } from '../page-types.js';

interface VaultView {
  name: string;
  vaultUrl: string;
  sku: string;
  enableRbacAuthorization: boolean;
  softDeleteRetentionInDays: number;
  enablePurgeProtection: boolean;
}

interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  sealType: string | null;
  shares: number;
  threshold: number;
  progress: number;
}

/** The vault list (with a way in by name for users who may read a vault's data but not list vaults) and seal status. */
export function overviewPages(): ConsolePage[] {
  return [
    { method: 'GET', url: '/vaults', handler: listVaults },
    { method: 'GET', url: '/vaults/open', handler: openVault },
    { method: 'GET', url: '/seal', handler: sealStatus },
  ];
}

async function listVaults(context: ConsoleContext): Promise<PageResult> {
  const listed = await context.api<{ value: VaultView[] }>({ method: 'GET', path: '/coffer/vaults' });
  const rows = listed.ok
    ? listed.body.value.map(
        (vault) =>
          html`<tr>
            <td><a href="${vaultPath(vault.name, 'secrets')}">${vault.name}</a></td>
            <td class="mono">${vault.vaultUrl}</td>
            <td>${vault.sku}</td>
            <td>${vault.enableRbacAuthorization ? 'Azure RBAC' : 'Access policies'}</td>
            <td>
              ${vault.softDeleteRetentionInDays}
              days${vault.enablePurgeProtection ? ', purge protection' : ''}
            </td>
          </tr>`,
      )
    : [];
  const body = html`${listed.ok ? '' : refusal(listed, 'list vaults')}
    ${
      listed.ok
        ? dataTable(['Name', 'URL', 'SKU', 'Permission model', 'Soft delete'], rows, 'No vaults.')
        : ''
    }
    <h2>Open a vault by name</h2>
    <form method="get" action="/ui/vaults/open" class="panel">
      <label>Vault name <input name="name" required pattern="[a-zA-Z0-9-]{3,24}" /></label>
      <button type="submit">Open</button>
    </form>`;
  return { title: 'Vaults', body };
}

async function openVault(context: ConsoleContext): Promise<PageResult> {
  const name = context.query.name ?? '';
  if (!/^[a-zA-Z0-9-]{3,24}$/.test(name))
    return {
      redirect: '/ui/vaults',
      flash: { kind: 'error', text: 'A vault name is 3-24 letters, digits and hyphens.' },
    };
  return { redirect: vaultPath(name.toLowerCase(), 'secrets') };
}

async function sealStatus(context: ConsoleContext): Promise<PageResult> {
  const answer = await context.api<SealStatus>({ method: 'GET', path: '/coffer/operator/status' });
  if (!answer.ok)
    return { title: 'Seal status', body: refusal(answer, 'read the seal status'), status: answer.status };
  const status = answer.body;
  const body = html`<dl class="props">
      <dt>State</dt>
      <dd class="${status.sealed ? 'status-sealed' : 'status-unsealed'}">
        ${status.sealed ? 'Sealed' : 'Unsealed'}
      </dd>
      <dt>Initialised</dt>
      <dd>${status.initialized ? 'yes' : 'no'}</dd>
      <dt>Seal type</dt>
      <dd>${status.sealType ?? '—'}</dd>
      <dt>Key shares</dt>
      <dd>${status.shares ? `${status.threshold} of ${status.shares} needed to unseal` : '—'}</dd>
      <dt>Unseal progress</dt>
      <dd>${status.sealed ? `${status.progress} of ${status.threshold} shares given` : '—'}</dd>
    </dl>
    <p>
      Unsealing takes key shares: use <code>coffer operator unseal</code> on a trusted machine, never this
      page.
    </p>`;
  return { title: 'Seal status', body };
}
