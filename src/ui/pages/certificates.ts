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
import { expiryChart } from './expiry-chart.js';

interface CertificateItem {
  id: string;
  x5t?: string;
  attributes?: { enabled?: boolean; nbf?: number; exp?: number; created?: number };
  tags?: Record<string, string>;
}
interface PendingOperation {
  csr?: string;
  status?: string;
  status_details?: string;
  issuer?: { name?: string };
}

export function certificatePages(): ConsolePage[] {
  return [
    { method: 'GET', url: '/vaults/:vault/certificates', handler: dashboard },
    { method: 'POST', url: '/vaults/:vault/certificates', handler: createCertificate },
    { method: 'GET', url: '/vaults/:vault/certificates/:name', handler: certificateDetail },
    { method: 'GET', url: '/vaults/:vault/certificates/:name/csr', handler: downloadCsr },
    { method: 'POST', url: '/vaults/:vault/certificates/:name/merge', handler: mergeCertificate },
  ];
}

async function dashboard(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const listed = await firstPage<CertificateItem>(context, vault, '/certificates');
  const items = listed.ok ? listed.body.value : [];
  const rows = items.map((item) => {
    const name = lastSegment(item.id);
    return html`<tr>
      <td><a href="${vaultPath(vault, 'certificates', name)}">${name}</a></td>
      <td>${when(item.attributes?.nbf)}</td>
      <td>${when(item.attributes?.exp)}</td>
      <td>${item.attributes?.enabled === false ? 'disabled' : 'enabled'}</td>
    </tr>`;
  });
  const chart = expiryChart(
    items.map((item) => ({ name: lastSegment(item.id), expires: item.attributes?.exp })),
    Date.now(),
  );
  const body = html`${
      listed.ok
        ? html`<h2>Expiry</h2>
            ${chart}`
        : refusal(listed, `list the certificates of ${vault}`)
    }
    <h2>Certificates</h2>
    ${dataTable(['Name', 'Valid from', 'Expires', 'State'], rows, 'No certificates to show.')}
    <h2>Issue a certificate</h2>
    <form method="post" action="${vaultPath(vault, 'certificates')}" class="panel">
      ${csrfField(context.session)}
      <label>Name <input name="name" required maxlength="127" /></label>
      <label>Subject <input name="subject" required value="CN=example.internal" /></label>
      <label
        >Validity (months) <input name="validityMonths" type="number" min="1" max="120" value="12"
      /></label>
      <label
        >Issuer
        <select name="issuer">
          <option value="Self">Self-signed</option>
          <option value="Unknown">Unknown: download the CSR, have it signed, merge it back</option>
        </select></label
      >
      <button type="submit">Issue certificate</button>
    </form>`;
  return {
    title: 'Certificates',
    vault,
    current: 'certificates',
    body,
    status: listed.ok ? 200 : listed.status,
  };
}

async function createCertificate(context: ConsoleContext): Promise<PageResult> {
  const { vault } = context.params as { vault: string };
  const { name = '', subject = '', validityMonths = '12', issuer = 'Self' } = context.form;
  const policy = {
    key_props: { kty: 'RSA', key_size: 2048, exportable: true, reuse_key: false },
    secret_props: { contentType: 'application/x-pem-file' },
    x509_props: { subject, validity_months: Number(validityMonths) },
    issuer: { name: issuer === 'Unknown' ? 'Unknown' : 'Self' },
  };
  const answer = await context.api({
    method: 'POST',
    vault,
    path: `/certificates/${encodeURIComponent(name)}/create`,
    body: { policy },
  });
  const done =
    issuer === 'Unknown'
      ? `Certificate ${name} is pending: download its CSR below.`
      : `Certificate ${name} issued.`;
  return {
    redirect: answer.ok ? vaultPath(vault, 'certificates', name) : vaultPath(vault, 'certificates'),
    flash: outcome(answer, `issue certificate ${name}`, done),
  };
}

async function certificateDetail(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const path = `/certificates/${encodeURIComponent(name)}`;
  const pending = await context.api<PendingOperation>({ method: 'GET', vault, path: `${path}/pending` });
  const certificate = await context.api<CertificateItem>({ method: 'GET', vault, path });
  if (!certificate.ok && !pending.ok)
    return {
      title: `Certificate ${name}`,
      vault,
      current: 'certificates',
      status: certificate.status,
      body: refusal(certificate, `read certificate ${name}`),
    };
  const attributes = certificate.ok ? certificate.body.attributes : undefined;
  const issued = certificate.ok && attributes?.exp !== undefined;
  const pendingSection =
    pending.ok && pending.body.status === 'inProgress'
      ? html`<h2>Pending issuance</h2>
          <p>Status: ${pending.body.status} ${pending.body.status_details ?? ''}</p>
          <p>
            <a href="${vaultPath(vault, 'certificates', name, 'csr')}" download
              >Download the CSR (${name}.csr)</a
            >
          </p>
          <form method="post" action="${vaultPath(vault, 'certificates', name, 'merge')}" class="panel">
            ${csrfField(context.session)}
            <label
              >Signed certificate file (PEM) <input type="file" accept=".pem,.crt,.cer" data-fill="merge-pem"
            /></label>
            <label
              >Signed certificate, PEM (the certificate first, then its chain)
              <textarea id="merge-pem" name="certificate" required></textarea>
            </label>
            <button type="submit">Merge</button>
          </form>`
      : '';
  const body = html`<dl class="props">
      <dt>Id</dt>
      <dd class="mono">${certificate.ok ? certificate.body.id : '—'}</dd>
      <dt>Thumbprint</dt>
      <dd class="mono">${certificate.ok ? (certificate.body.x5t ?? '—') : '—'}</dd>
      <dt>Valid from</dt>
      <dd>${when(attributes?.nbf)}</dd>
      <dt>Expires</dt>
      <dd>${when(attributes?.exp)}</dd>
      <dt>State</dt>
      <dd>${issued ? 'issued' : pending.ok ? (pending.body.status ?? 'pending') : '—'}</dd>
    </dl>
    ${pendingSection}`;
  return { title: `Certificate ${name}`, vault, current: 'certificates', body };
}

async function downloadCsr(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const pending = await context.api<PendingOperation>({
    method: 'GET',
    vault,
    path: `/certificates/${encodeURIComponent(name)}/pending`,
  });
  if (!pending.ok || !pending.body.csr)
    return {
      redirect: vaultPath(vault, 'certificates', name),
      flash: outcome(pending, `read the CSR of ${name}`, ''),
    };
  const lines = pending.body.csr.match(/.{1,64}/g) ?? [];
  const content = `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  return { download: { filename: `${name}.csr`, contentType: 'application/pkcs10', content } };
}

async function mergeCertificate(context: ConsoleContext): Promise<PageResult> {
  const { vault, name } = context.params as { vault: string; name: string };
  const x5c = [
    ...(context.form.certificate ?? '').matchAll(
      /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g,
    ),
  ].map((match) => (match[1] ?? '').replace(/\s+/g, ''));
  if (x5c.length === 0)
    return {
      redirect: vaultPath(vault, 'certificates', name),
      flash: {
        kind: 'error',
        text: 'No PEM certificate found: paste or choose a file with -----BEGIN CERTIFICATE----- blocks.',
      },
    };
  const answer = await context.api({
    method: 'POST',
    vault,
    path: `/certificates/${encodeURIComponent(name)}/pending/merge`,
    body: { x5c },
  });
  return {
    redirect: vaultPath(vault, 'certificates', name),
    flash: outcome(answer, `merge the certificate of ${name}`, `Certificate ${name} merged and issued.`),
  };
}
