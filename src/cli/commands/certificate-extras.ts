import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { readInputFile } from '../files.js';
import { outputFormat } from '../options.js';
import { asRecord, printDone, printResult } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import type { VaultClient } from '../vault-client.js';
import {
  addAttributeOptions,
  addObjectOptions,
  attributesBody,
  dataLeaf,
  objectPath,
  objectTarget,
  vaultTarget,
  printShaped,
} from './data-plane.js';
import { azNames, certificateShape, issuerShape } from './certificate-shape.js';
import { renderCertificate } from './certificate.js';

/**
 * `coffer certificate pending show|merge|delete`, `contact add|list|delete` and
 * `issuer create|show|list|update|delete`, as `az keyvault certificate` names them.
 */

export function registerCertificateExtras(certificate: Command): void {
  registerPending(
    certificate.command('pending').description('a certificate waiting for issuance or a merge'),
  );
  registerContacts(
    certificate.command('contact').description('who the vault tells about certificate events'),
  );
  registerIssuers(
    certificate.command('issuer').description('certificate issuers (Coffer CA, or stored external ones)'),
  );
}

function registerPending(pending: Command): void {
  addObjectOptions(
    dataLeaf(
      pending,
      'show',
      'show the pending operation (its CSR: --query csr -o tsv)',
      async ({ command }) => {
        const target = objectTarget(command, ['certificates']);
        printShaped(
          command,
          await target.client.call('GET', `${objectPath('certificates', { name: target.name })}/pending`),
          azNames,
          renderOperation,
        );
      },
    ),
    'certificate',
    false,
  );

  addAttributeOptions(
    addObjectOptions(
      dataLeaf(
        pending,
        'merge',
        'merge the certificate (chain) signed for the pending CSR',
        async ({ command }) => {
          const { file } = command.opts<{ file: string }>();
          const body = {
            x5c: certificatesIn(readInputFile(file, '--file'), file),
            ...attributesBody(command),
          };
          const target = objectTarget(command, ['certificates']);
          const path = `${objectPath('certificates', { name: target.name })}/pending/merge`;
          printShaped(
            command,
            await target.client.call('POST', path, body),
            certificateShape,
            renderCertificate,
          );
        },
      ).requiredOption('-f, --file <path>', 'PEM (one or more certificates, leaf first) or DER file'),
      'certificate',
      false,
    ),
    true,
  );

  addObjectOptions(
    dataLeaf(
      pending,
      'delete',
      'delete the pending operation (and stop waiting for a merge)',
      async ({ command }) => {
        const target = objectTarget(command, ['certificates']);
        printShaped(
          command,
          await target.client.call('DELETE', `${objectPath('certificates', { name: target.name })}/pending`),
          azNames,
          renderOperation,
        );
      },
    ),
    'certificate',
    false,
  );
}

/** The certificates of a PEM or DER file as base64 DER, each checked to parse. */
function certificatesIn(bytes: Buffer, file: string): string[] {
  const text = bytes.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  const ders =
    blocks === null
      ? [bytes]
      : blocks.map((block) => Buffer.from(block.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
  return ders.map((der) => {
    try {
      return Buffer.from(new X509Certificate(der).raw).toString('base64');
    } catch {
      throw new CliError(`${file} holds no X.509 certificate. Pass the signed certificate as PEM or DER.`);
    }
  });
}

function renderOperation(value: Record<string, unknown>): string {
  return renderProperties([
    ['Name', value['name']],
    ['Status', value['status']],
    ['Status details', value['statusDetails']],
    ['Issuer', asRecord(value['issuerParameters'])['name']],
    ['Cancellation requested', value['cancellationRequested']],
    ['CSR', typeof value['csr'] === 'string' ? 'present: --query csr -o tsv' : ''],
    ['ID', value['id']],
  ]);
}

const CONTACTS = '/certificates/contacts';

function registerContacts(contact: Command): void {
  dataLeaf(contact, 'add', 'add a contact for certificate events', async ({ command }) => {
    const { email, name, phone } = command.opts<{ email: string; name?: string; phone?: string }>();
    const client = vaultTarget(command);
    const entry: Record<string, string> = { email };
    if (name !== undefined) entry['name'] = name;
    if (phone !== undefined) entry['phone'] = phone;
    const others = (await currentContacts(client)).filter((known) => known['email'] !== email);
    printContacts(command, await client.call('PUT', CONTACTS, { contacts: [...others, entry] }));
  })
    .requiredOption('--email <address>', 'e-mail address')
    .option('--name <name>', 'full name')
    .option('--phone <number>', 'phone number');

  dataLeaf(contact, 'list', 'list the contacts', async ({ command }) => {
    const client = vaultTarget(command);
    printContacts(command, { id: `${client.vaultUrl}${CONTACTS}`, contacts: await currentContacts(client) });
  });

  dataLeaf(contact, 'delete', 'remove a contact', async ({ command }) => {
    const { email } = command.opts<{ email: string }>();
    const client = vaultTarget(command);
    const known = await currentContacts(client);
    const rest = known.filter((entry) => entry['email'] !== email);
    if (rest.length === known.length)
      throw new CliError(
        `no contact '${email}'. See \`coffer certificate contact list --vault-name ${client.vaultName}\`.`,
      );
    const answer =
      rest.length === 0
        ? await client.call('DELETE', CONTACTS)
        : await client.call('PUT', CONTACTS, { contacts: rest });
    printContacts(command, rest.length === 0 ? { ...asRecord(answer), contacts: [] } : answer);
  }).requiredOption('--email <address>', 'the contact to remove');
}

/** The vault's contacts; none set yet is an empty list, not an error. */
async function currentContacts(client: VaultClient): Promise<Record<string, unknown>[]> {
  try {
    const contacts = asRecord(await client.call('GET', CONTACTS))['contacts'];
    return Array.isArray(contacts) ? contacts.map(asRecord) : [];
  } catch (error) {
    if (error instanceof CliError && /NotFound/.test(error.message)) return [];
    throw error;
  }
}

function printContacts(command: Command, answer: unknown): void {
  const shaped = asRecord(answer);
  const contacts = Array.isArray(shaped['contacts']) ? shaped['contacts'].map(asRecord) : [];
  printResult(outputFormat(command), { id: shaped['id'], contactList: contacts }, () =>
    renderTable(
      ['Email', 'Name', 'Phone'],
      contacts.map((entry) => [entry['email'], entry['name'], entry['phone']]),
    ),
  );
}

const ISSUERS = '/certificates/issuers';

function registerIssuers(issuer: Command): void {
  for (const verb of ['create', 'update'] as const) {
    const command = dataLeaf(
      issuer,
      verb,
      verb === 'create' ? 'create an issuer' : 'change an issuer',
      async ({ command: self }) => {
        const options = self.opts<{
          issuerName: string;
          providerName?: string;
          accountId?: string;
          password?: string;
          organizationId?: string;
          disabled?: boolean;
          enabled?: string;
        }>();
        const body: Record<string, unknown> = {};
        if (options.providerName !== undefined) body['provider'] = options.providerName;
        const credentials: Record<string, string> = {};
        if (options.accountId !== undefined) credentials['account_id'] = options.accountId;
        if (options.password !== undefined) credentials['pwd'] = options.password;
        if (Object.keys(credentials).length > 0) body['credentials'] = credentials;
        if (options.organizationId !== undefined) body['org_details'] = { id: options.organizationId };
        if (options.disabled) body['attributes'] = { enabled: false };
        if (options.enabled !== undefined) body['attributes'] = { enabled: options.enabled === 'true' };
        if (verb === 'update' && Object.keys(body).length === 0)
          throw new CliError(
            'nothing to change. Pass --provider-name, --account-id, --password, --organization-id or --enabled.',
          );
        const client = vaultTarget(self);
        printShaped(
          self,
          await client.call(verb === 'create' ? 'PUT' : 'PATCH', issuerPath(options.issuerName), body),
          issuerShape,
          renderIssuer,
        );
      },
    )
      .requiredOption('--issuer-name <name>', 'name of the issuer')
      .option('--account-id <id>', "account at the provider (Coffer: the CA certificate's name)")
      .option('--password <password>', 'password of the account')
      .option('--organization-id <id>', 'organization at the provider');
    if (verb === 'create')
      command
        .requiredOption('--provider-name <name>', 'Coffer, DigiCert, GlobalSign ...')
        .option('--disabled', 'create it disabled');
    else command.option('--provider-name <name>', 'new provider').option('--enabled <bool>', 'true or false');
  }

  dataLeaf(issuer, 'show', 'show an issuer', async ({ command }) => {
    const { issuerName } = command.opts<{ issuerName: string }>();
    printShaped(
      command,
      await vaultTarget(command).call('GET', issuerPath(issuerName)),
      issuerShape,
      renderIssuer,
    );
  }).requiredOption('--issuer-name <name>', 'name of the issuer');

  dataLeaf(issuer, 'list', 'list the issuers', async ({ command }) => {
    const items = (await vaultTarget(command).list(ISSUERS)).map(issuerShape);
    printResult(outputFormat(command), items, () =>
      renderTable(
        ['Name', 'Provider'],
        items.map((item) => [item['name'], item['provider']]),
      ),
    );
  });

  dataLeaf(issuer, 'delete', 'delete an issuer', async ({ command }) => {
    const { issuerName } = command.opts<{ issuerName: string }>();
    await vaultTarget(command).call('DELETE', issuerPath(issuerName));
    printDone(outputFormat(command), `Deleted issuer '${issuerName}'.`);
  }).requiredOption('--issuer-name <name>', 'name of the issuer');
}

function issuerPath(name: string): string {
  return `${ISSUERS}/${encodeURIComponent(name)}`;
}

function renderIssuer(value: Record<string, unknown>): string {
  return renderProperties([
    ['Name', value['name']],
    ['Provider', value['provider']],
    ['Account', asRecord(value['credentials'])['accountId']],
    ['Enabled', asRecord(value['attributes'])['enabled']],
    ['ID', value['id']],
  ]);
}
