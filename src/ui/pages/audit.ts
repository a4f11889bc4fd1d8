import { html } from '../../lib/html.js';
import { type ConsoleContext, type ConsolePage, type PageResult, refusal } from '../page-types.js';
import { dataTable } from '../layout.js';

interface AuditRecord {
  time: string;
  operationName: string;
  resultType: string;
  resultSignature?: string;
  callerIpAddress?: string;
  resourceId?: string;
  identity?: { claim?: Record<string, string> };
  properties?: { id?: string; httpStatusCode?: number };
}

const FILTERS = ['object', 'caller', 'result', 'operation', 'vault'] as const;
const UPN_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const OID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

/** The audit viewer: the admin API's audit query (docs/audit.md), newest first, 100 records. */
export function auditPages(): ConsolePage[] {
  return [{ method: 'GET', url: '/audit', handler: auditPage }];
}

async function auditPage(context: ConsoleContext): Promise<PageResult> {
  const query = Object.fromEntries(FILTERS.map((name) => [name, (context.query[name] ?? '').slice(0, 256)]));
  const records = await context.api<{ value: AuditRecord[] }>({
    method: 'GET',
    path: '/coffer/audit/records',
    query: { ...query, order: 'desc', limit: '100' },
  });
  const rows = records.ok
    ? records.body.value.map((record) => {
        const claim = record.identity?.claim ?? {};
        const caller = claim[UPN_CLAIM] ?? claim.appid ?? claim[OID_CLAIM] ?? '—';
        return html`<tr>
          <td>${record.time}</td>
          <td>${record.operationName}</td>
          <td>${caller}</td>
          <td class="mono">${record.properties?.id ?? record.resourceId ?? ''}</td>
          <td>${record.resultType} ${record.properties?.httpStatusCode ?? ''}</td>
          <td>${record.callerIpAddress ?? ''}</td>
        </tr>`;
      })
    : [];
  const field = (name: string, label: string, hint: string) =>
    html`<label>${label} <input name="${name}" value="${query[name]}" placeholder="${hint}" /></label>`;
  const body = html`<form method="get" action="/ui/audit" class="panel">
      ${field('object', 'Object', 'NAME or KIND/NAME')}${field('caller', 'Caller', 'object id, client id or user name')}
      ${field('result', 'Result', 'Success, Failure or a status')}${field('operation', 'Operation', 'e.g. SecretGet')}${field('vault', 'Vault', 'vault name')}
      <button type="submit">Search</button>
    </form>
    ${records.ok ? '' : refusal(records, 'read the audit log')}
    ${dataTable(['Time', 'Operation', 'Caller', 'Object', 'Result', 'Address'], rows, 'No records match.')}`;
  return { title: 'Audit log', body, status: records.ok ? 200 : records.status };
}
