import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { apiClientFor, outputFormat, parseBoolean } from '../options.js';
import { asRecord, listItems, printDone, printResult } from '../output.js';
import { renderProperties, renderTable } from '../table.js';
import { leaf } from './leaf.js';

/**
 * `coffer sp credential ...`, `coffer sp federated-credential ...` and `coffer sp update`:
 * certificate and federated credentials of a service principal, as `az ad sp credential` and
 * `az ad app federated-credential` (docs/admin-api.md, Service principal credentials).
 */

const principalPath = (id: string) => `/coffer/principals/${encodeURIComponent(id)}`;

export function registerSpCredentialCommands(sp: Command): void {
  leaf(sp, 'update', 'enable or disable a service principal', async ({ command, operands }) => {
    const { enabled } = command.opts<{ enabled?: boolean }>();
    if (enabled === undefined) throw new CliError('nothing to update. Pass --enabled true|false.');
    const answer = asRecord(
      await apiClientFor(command).call('PATCH', principalPath(operands[0] ?? ''), { enabled }),
    );
    printResult(outputFormat(command), answer, () =>
      renderProperties([
        ['Name', answer['name']],
        ['Object ID', answer['objectId']],
        ['Enabled', answer['enabled']],
      ]),
    );
  })
    .argument('<id>', 'objectId or clientId')
    .option(
      '--enabled <bool>',
      'true lets it get tokens; false refuses new tokens and revokes issued ones',
      parseBoolean,
    );

  registerCertificateCommands(
    sp.command('credential').description('certificate credentials of a service principal'),
  );
  registerFederatedCommands(
    sp.command('federated-credential').description('trust tokens of an external OpenID Connect issuer'),
  );
}

function registerCertificateCommands(credential: Command): void {
  leaf(
    credential,
    'add',
    'register a certificate whose key may sign client assertions',
    async ({ command }) => {
      const { id, certFile, displayName } = command.opts<{
        id: string;
        certFile: string;
        displayName?: string;
      }>();
      const body: Record<string, unknown> = { certificate: readPem(certFile) };
      if (displayName !== undefined) body['displayName'] = displayName;
      const answer = await apiClientFor(command).call('POST', `${principalPath(id)}/certificates`, body);
      printResult(outputFormat(command), answer, () => renderCertificates([asRecord(answer)]));
    },
  )
    .requiredOption('--id <id>', 'the service principal: objectId or clientId')
    .requiredOption('--cert-file <file>', 'PEM file with the certificate (a private key in it is not sent)')
    .option('--display-name <name>', 'a label for the credential');

  leaf(credential, 'list', "list a service principal's certificate credentials", async ({ command }) => {
    const { id } = command.opts<{ id: string }>();
    const items = listItems(await apiClientFor(command).call('GET', `${principalPath(id)}/certificates`));
    printResult(outputFormat(command), items, () => renderCertificates(items));
  }).requiredOption('--id <id>', 'the service principal: objectId or clientId');

  leaf(
    credential,
    'remove',
    'remove a certificate credential; its tokens stop working',
    async ({ command }) => {
      const { id, keyId } = command.opts<{ id: string; keyId: string }>();
      await apiClientFor(command).call(
        'DELETE',
        `${principalPath(id)}/certificates/${encodeURIComponent(keyId)}`,
      );
      printDone(outputFormat(command), `Removed certificate credential '${keyId}'.`);
    },
  )
    .requiredOption('--id <id>', 'the service principal: objectId or clientId')
    .requiredOption('--key-id <id>', "the credential's id or its certificate thumbprint");
}

function registerFederatedCommands(federated: Command): void {
  leaf(federated, 'add', 'trust an external issuer for one subject', async ({ command }) => {
    const options = command.opts<{
      id: string;
      name?: string;
      issuer: string;
      subject: string;
      audience?: string;
    }>();
    const body: Record<string, unknown> = {
      name: options.name ?? defaultName(options.subject),
      issuer: options.issuer,
      subject: options.subject,
    };
    if (options.audience !== undefined) body['audiences'] = [options.audience];
    const answer = await apiClientFor(command).call(
      'POST',
      `${principalPath(options.id)}/federated-credentials`,
      body,
    );
    printResult(outputFormat(command), answer, () => renderFederated([asRecord(answer)]));
  })
    .requiredOption('--id <id>', 'the service principal: objectId or clientId')
    .requiredOption('--issuer <url>', 'the iss of the external tokens, exactly (https)')
    .requiredOption('--subject <sub>', 'the sub of the external tokens, exactly')
    .option('--audience <aud>', 'the aud the external tokens carry (default api://AzureADTokenExchange)')
    .option('--name <name>', 'a name for the credential (default: from the subject)');

  leaf(federated, 'list', "list a service principal's federated credentials", async ({ command }) => {
    const { id } = command.opts<{ id: string }>();
    const items = listItems(
      await apiClientFor(command).call('GET', `${principalPath(id)}/federated-credentials`),
    );
    printResult(outputFormat(command), items, () => renderFederated(items));
  }).requiredOption('--id <id>', 'the service principal: objectId or clientId');

  leaf(federated, 'remove', 'remove a federated credential', async ({ command }) => {
    const { id, federatedCredentialId } = command.opts<{ id: string; federatedCredentialId: string }>();
    const path = `${principalPath(id)}/federated-credentials/${encodeURIComponent(federatedCredentialId)}`;
    await apiClientFor(command).call('DELETE', path);
    printDone(outputFormat(command), `Removed federated credential '${federatedCredentialId}'.`);
  })
    .requiredOption('--id <id>', 'the service principal: objectId or clientId')
    .requiredOption('--federated-credential-id <id>', "the credential's id or name");
}

/** A valid credential name from a subject such as `repo:org/app:ref:refs/heads/main`. */
function defaultName(subject: string): string {
  const name = subject
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 100);
  return name.length >= 3 ? name : `federated-${name}`;
}

function readPem(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}). Check --cert-file.`,
    );
  }
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  if (!match) throw new CliError(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  // Only the certificate leaves this machine, never a private key kept in the same file.
  return `${match[0]}\n`;
}

function renderCertificates(items: Record<string, unknown>[]): string {
  return renderTable(
    ['Id', 'Thumbprint', 'Subject', 'NotAfter', 'DisplayName'],
    items.map((item) => [
      item['id'],
      item['thumbprint'],
      item['subject'],
      item['notAfter'],
      item['displayName'],
    ]),
  );
}

function renderFederated(items: Record<string, unknown>[]): string {
  return renderTable(
    ['Name', 'Issuer', 'Subject', 'Audiences', 'Id'],
    items.map((item) => [item['name'], item['issuer'], item['subject'], item['audiences'], item['id']]),
  );
}
