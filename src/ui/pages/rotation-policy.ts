import { html, type SafeHtml } from '../../lib/html.js';
import { csrfField, vaultPath, when, dataTable } from '../layout.js';
import { type ConsoleContext, outcome, type PageResult, refusal } from '../page-types.js';

interface RotationPolicy {
  lifetimeActions: Array<{
    trigger: { timeAfterCreate?: string; timeBeforeExpiry?: string };
    action: { type: string };
  }>;
  attributes: { expiryTime?: string; updated?: number };
}

/** The key's rotation policy and a form for its common shape: rotate after, expire after, notify before. */
export async function rotationPolicySection(
  context: ConsoleContext,
  vault: string,
  name: string,
): Promise<SafeHtml> {
  const policy = await context.api<RotationPolicy>({
    method: 'GET',
    vault,
    path: `/keys/${encodeURIComponent(name)}/rotationpolicy`,
  });
  if (!policy.ok)
    return html`<h2>Rotation policy</h2>
      ${refusal(policy, `read the rotation policy of ${name}`)}`;
  const actions = policy.body.lifetimeActions ?? [];
  const rotate = actions.find((action) => action.action.type.toLowerCase() === 'rotate');
  const notify = actions.find((action) => action.action.type.toLowerCase() === 'notify');
  const rows = actions.map(
    (action) =>
      html`<tr>
        <td>${action.action.type}</td>
        <td>
          ${action.trigger.timeAfterCreate ? `${action.trigger.timeAfterCreate} after creation` : `${action.trigger.timeBeforeExpiry ?? ''} before expiry`}
        </td>
      </tr>`,
  );
  return html`<h2>Rotation policy</h2>
    ${dataTable(['Action', 'When'], rows, 'No automatic rotation.')}
    <p>
      New versions expire ${policy.body.attributes?.expiryTime ?? 'never'} after creation. Updated
      ${when(policy.body.attributes?.updated)}.
    </p>
    <form method="post" action="${vaultPath(vault, 'keys', name, 'rotation-policy')}" class="panel">
      ${csrfField(context.session)}
      <label
        >Rotate after (ISO 8601 duration, e.g. P90D; empty for none)
        <input name="rotateAfter" value="${rotate?.trigger.timeAfterCreate ?? ''}"
      /></label>
      <label
        >Versions expire after (e.g. P1Y; empty for never)
        <input name="expiryTime" value="${policy.body.attributes?.expiryTime ?? ''}"
      /></label>
      <label
        >Notify before expiry (e.g. P30D; empty for none)
        <input name="notifyBefore" value="${notify?.trigger.timeBeforeExpiry ?? ''}"
      /></label>
      <button type="submit">Save rotation policy</button>
    </form>`;
}

export async function saveRotationPolicy(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const { rotateAfter = '', expiryTime = '', notifyBefore = '' } = context.form;
  const lifetimeActions = [
    ...(rotateAfter ? [{ trigger: { timeAfterCreate: rotateAfter }, action: { type: 'Rotate' } }] : []),
    ...(notifyBefore ? [{ trigger: { timeBeforeExpiry: notifyBefore }, action: { type: 'Notify' } }] : []),
  ];
  const answer = await context.api({
    method: 'PUT',
    vault,
    path: `/keys/${encodeURIComponent(name)}/rotationpolicy`,
    body: { lifetimeActions, attributes: { expiryTime: expiryTime || null } },
  });
  return {
    redirect: vaultPath(vault, 'keys', name),
    flash: outcome(answer, `change the rotation policy of ${name}`, 'Rotation policy saved.'),
  };
}
