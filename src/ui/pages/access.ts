import { html } from '../../lib/html.js';
import { csrfField, vaultPath, dataTable } from '../layout.js';
import { type ConsoleContext, type ConsolePage, outcome, type PageResult, refusal } from '../page-types.js';

interface Assignment {
  id: string;
  roleDefinitionName: string | null;
  principalId: string;
  scope: string;
}
interface AccessPolicy {
  objectId: string;
  permissions: { keys?: string[]; secrets?: string[]; certificates?: string[] };
}
interface VaultView {
  enableRbacAuthorization: boolean;
  accessPolicies?: AccessPolicy[];
}

const DATA_KINDS = ['secrets', 'keys', 'certificates'] as const;

/** Role assignments at and below the vault, its access policies, and forms to change both. */
export function accessPages(): ConsolePage[] {
  return [
    { method: 'GET', url: '/vaults/:vault/access', handler: accessPage },
    { method: 'POST', url: '/vaults/:vault/access/assignments', handler: assignRole },
    { method: 'POST', url: '/vaults/:vault/access/assignments/:id/delete', handler: removeAssignment },
    { method: 'POST', url: '/vaults/:vault/access/policies', handler: changePolicy },
  ];
}

async function accessPage(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const [assignments, vaultView, roles] = await Promise.all([
    context.api<{ value: Assignment[] }>({
      method: 'GET',
      path: '/coffer/roles/assignments',
      query: { scope: `/vaults/${vault}` },
    }),
    context.api<VaultView>({ method: 'GET', path: `/coffer/vaults/${encodeURIComponent(vault)}` }),
    context.api<{ value: Array<{ name: string }> }>({ method: 'GET', path: '/coffer/roles/definitions' }),
  ]);
  const assignmentRows = assignments.ok
    ? assignments.body.value.map(
        (assignment) =>
          html`<tr>
            <td>${assignment.roleDefinitionName ?? '—'}</td>
            <td class="mono">${assignment.principalId}</td>
            <td class="mono">${assignment.scope}</td>
            <td>
              <form
                method="post"
                action="${vaultPath(vault, 'access', 'assignments', assignment.id, 'delete')}"
                class="inline"
                data-confirm="Remove this role assignment?"
              >
                ${csrfField(context.session)}<button type="submit" class="secondary">Remove</button>
              </form>
            </td>
          </tr>`,
      )
    : [];
  const policies = vaultView.ok ? (vaultView.body.accessPolicies ?? []) : [];
  const policyRows = policies.map(
    (policy) =>
      html`<tr>
        <td class="mono">${policy.objectId}</td>
        ${DATA_KINDS.map((kind) => html`<td>${(policy.permissions[kind] ?? []).join(', ')}</td>`)}
        <td>
          <form
            method="post"
            action="${vaultPath(vault, 'access', 'policies')}"
            class="inline"
            data-confirm="Remove this access policy?"
          >
            ${csrfField(context.session)} <input type="hidden" name="change" value="remove" /><input
              type="hidden"
              name="objectId"
              value="${policy.objectId}"
            /><button type="submit" class="secondary">Remove</button>
          </form>
        </td>
      </tr>`,
  );
  const model = vaultView.ok
    ? html`<p>
        Permission model:
        <strong
          >${vaultView.body.enableRbacAuthorization ? 'Azure RBAC (role assignments decide; access policies are ignored)' : 'access policies'}</strong
        >.
      </p>`
    : refusal(vaultView, `read vault ${vault}`);
  const body = html`${model}
    <h2>Role assignments</h2>
    ${
      assignments.ok
        ? dataTable(['Role', 'Principal', 'Scope', ''], assignmentRows, 'None at or below this vault.')
        : refusal(assignments, `list the role assignments of ${vault}`)
    }
    <form method="post" action="${vaultPath(vault, 'access', 'assignments')}" class="panel">
      ${csrfField(context.session)}
      <label>Role <input name="role" required list="role-names" /></label>
      <datalist id="role-names">
        ${roles.ok ? roles.body.value.map((role) => html`<option value="${role.name}"></option>`) : ''}
      </datalist>
      <label
        >Principal (object id, client id, user name or group id) <input name="principalId" required
      /></label>
      <label>Scope <input name="scope" required value="/vaults/${vault}" /></label>
      <button type="submit">Assign role</button>
    </form>
    <h2>Access policies</h2>
    ${dataTable(['Object id', 'Secrets', 'Keys', 'Certificates', ''], policyRows, 'No access policies.')}
    <form method="post" action="${vaultPath(vault, 'access', 'policies')}" class="panel">
      ${csrfField(context.session)}
      <input type="hidden" name="change" value="add" />
      <label>Object id <input name="objectId" required /></label>
      ${DATA_KINDS.map((kind) => html`<label>${kind} permissions (comma-separated, e.g. get, list) <input name="${kind}" /></label>`)}
      <button type="submit">Add permissions</button>
    </form>`;
  return {
    title: `Access to ${vault}`,
    vault,
    current: 'access',
    body,
    status: assignments.ok ? 200 : assignments.status,
  };
}

async function assignRole(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const { role = '', principalId = '', scope = '' } = context.form;
  const answer = await context.api({
    method: 'POST',
    path: '/coffer/roles/assignments',
    body: { role, principalId, scope },
  });
  return {
    redirect: vaultPath(vault, 'access'),
    flash: outcome(answer, `assign ${role}`, `${role} assigned to ${principalId} at ${scope}.`),
  };
}

async function removeAssignment(context: ConsoleContext): Promise<PageResult> {
  const { vault, id } = context.params as { vault: string; id: string };
  const answer = await context.api({
    method: 'DELETE',
    path: `/coffer/roles/assignments/${encodeURIComponent(id)}`,
  });
  return {
    redirect: vaultPath(vault, 'access'),
    flash: outcome(answer, 'remove the role assignment', 'Role assignment removed.'),
  };
}

async function changePolicy(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const change = context.form.change === 'remove' ? 'remove' : 'add';
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const permissions =
    change === 'remove' ? {} : Object.fromEntries(DATA_KINDS.map((kind) => [kind, list(context.form[kind])]));
  const answer = await context.api({
    method: 'PUT',
    path: `/coffer/vaults/${encodeURIComponent(vault)}/accessPolicies/${change}`,
    body: { properties: { accessPolicies: [{ objectId: context.form.objectId ?? '', permissions }] } },
  });
  return {
    redirect: vaultPath(vault, 'access'),
    flash: outcome(answer, 'change the access policies', 'Access policies saved.'),
  };
}
