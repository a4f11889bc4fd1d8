import { X509Certificate } from 'node:crypto';
import { type Command, Option } from 'commander';
import { CliError } from '../errors.js';
import { readInputFile, readJsonArgument } from '../files.js';
import { addOutputOption, outputFormat } from '../options.js';
import { asRecord, printResult } from '../output.js';
import {
  addAttributeOptions,
  addObjectOptions,
  attributesBody,
  dataLeaf,
  objectPath,
  objectTarget,
  printShaped,
  addDownloadOptions,
  downloadObject,
} from './data-plane.js';
import { registerCertificateExtras } from './certificate-extras.js';
import { azNames, certificateShape, DEFAULT_POLICY, wireNames } from './certificate-shape.js';
import { registerObjectVerbs } from './object-verbs.js';
import { renderWithCommon } from './object-tables.js';

/**
 * `coffer certificate ...`, as `az keyvault certificate`: create (waiting for issuance), import,
 * download (the public certificate, PEM or DER), get-default-policy, set-attributes, the
 * lifecycle verbs, and (certificate-extras.ts) pending, contact and issuer.
 */

const POLICY_EXAMPLE = '"$(coffer certificate get-default-policy)"';
const POLL_MS = 500;
const POLL_DEADLINE_MS = 60_000;

export function registerCertificateCommands(program: Command): void {
  const certificate = program
    .command('certificate')
    .description("a vault's certificates, as `az keyvault certificate`");

  addAttributeOptions(
    dataLeaf(certificate, 'create', 'create a certificate (or a new version) from a policy', createAction)
      .option('-n, --name <name>', 'name of the certificate')
      .requiredOption('-p, --policy <json>', `the policy: @FILE.json or JSON, e.g. ${POLICY_EXAMPLE}`)
      .option('--no-wait', 'return the pending operation instead of waiting for issuance'),
    true,
  );

  addAttributeOptions(
    dataLeaf(certificate, 'import', 'import a certificate with its private key (PFX or PEM)', importAction)
      .option('-n, --name <name>', 'name of the certificate')
      .requiredOption(
        '-f, --file <path>',
        'PKCS#12 (.pfx) or PEM file with the certificate and its private key',
      )
      .option('--password <password>', 'password of the PFX or encrypted PEM')
      .option('-p, --policy <json>', 'a policy: @FILE.json or JSON'),
    true,
  );

  leafWithoutServer(certificate);

  registerObjectVerbs(certificate, {
    noun: 'certificate',
    collection: 'certificates',
    deleted: 'deletedcertificates',
    renderShow: renderCertificate,
    shape: certificateShape,
    listFlag: {
      option: '--include-pending',
      description: 'include certificates not issued yet',
      query: 'includePending',
    },
  });

  addAttributeOptions(
    addObjectOptions(
      dataLeaf(
        certificate,
        'set-attributes',
        "change a certificate version's attributes, tags or policy",
        async ({ command }) => {
          const target = objectTarget(command, ['certificates']);
          const body: Record<string, unknown> = attributesBody(command);
          const { policy } = command.opts<{ policy?: string }>();
          if (policy !== undefined) body['policy'] = policyBody(policy);
          if (Object.keys(body).length === 0)
            throw new CliError('nothing to change. Pass --enabled, --tags or --policy.');
          printShaped(
            command,
            await target.client.call('PATCH', objectPath('certificates', target), body),
            certificateShape,
            renderCertificate,
          );
        },
      ).option('-p, --policy <json>', 'a new policy: @FILE.json or JSON'),
      'certificate',
    ),
    false,
  );

  addObjectOptions(
    addDownloadOptions(
      dataLeaf(
        certificate,
        'download',
        'write the public certificate to a file (PEM or DER, mode 0600)',
        downloadAction,
      ).addOption(
        new Option('-e, --encoding <encoding>', 'PEM or DER (default PEM)')
          .choices(['PEM', 'DER'])
          .default('PEM'),
      ),
    ),
    'certificate',
  );

  registerCertificateExtras(certificate);
}

/**
 * `get-default-policy` needs no server, so it takes only the output options; its default output
 * is JSON (as az's), so `coffer certificate get-default-policy > policy.json` gives a policy file.
 */
function leafWithoutServer(certificate: Command): void {
  const command = addOutputOption(
    certificate
      .command('get-default-policy')
      .description('print the default policy, a starting point for --policy'),
  );
  command.options.find((option) => option.long === '--output')?.default('json');
  command.setOptionValueWithSource('output', 'json', 'default');
  command.action(() => {
    printResult(outputFormat(command), DEFAULT_POLICY, () => JSON.stringify(DEFAULT_POLICY, null, 2));
  });
}

/** A policy from `--policy`, in the wire's names, without what only the server sets. */
export function policyBody(text: string): Record<string, unknown> {
  const policy = wireNames(readJsonArgument(text, '--policy', POLICY_EXAMPLE));
  delete policy['id'];
  const attributes = asRecord(policy['attributes']);
  if (policy['attributes'] !== undefined)
    policy['attributes'] = attributes['enabled'] === undefined ? {} : { enabled: attributes['enabled'] };
  return policy;
}

async function createAction({ command }: { command: Command }): Promise<void> {
  const { name, policy, wait } = command.opts<{ name?: string; policy: string; wait: boolean }>();
  if (name === undefined) throw new CliError('which certificate? Pass --name NAME.');
  const body = { policy: policyBody(policy), ...attributesBody(command) };
  const target = objectTarget(command, ['certificates']);
  const path = objectPath('certificates', { name: target.name });
  let operation = asRecord(await target.client.call('POST', `${path}/create`, body));
  const deadline = Date.now() + POLL_DEADLINE_MS;
  // An Unknown issuer waits for a merge, so only a certificate the vault issues itself is waited for.
  const issuer = asRecord(operation['issuer'])['name'];
  for (
    let poll = 0;
    wait && operation['status'] === 'inProgress' && issuer !== 'Unknown' && Date.now() < deadline;
    poll++
  ) {
    if (poll > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    operation = asRecord(await target.client.call('GET', `${path}/pending`));
  }
  if (operation['status'] === 'completed') {
    printShaped(command, await target.client.call('GET', path), certificateShape, renderCertificate);
    return;
  }
  if (operation['status'] === 'failed') {
    const error = asRecord(operation['error']);
    throw new CliError(
      `issuing '${target.name}' failed: ${String(error['message'] ?? operation['status_details'] ?? 'no reason given')} Check --policy.`,
    );
  }
  const shaped = azNames(operation);
  printResult(
    outputFormat(command),
    shaped,
    () =>
      `Certificate '${target.name}' is pending (${String(operation['status'])}). Its CSR: \`coffer certificate pending show --vault-name ${target.client.vaultName} --name ${target.name} --query csr -o tsv\`; then \`coffer certificate pending merge ... --file SIGNED.pem\`.`,
  );
}

async function importAction({ command }: { command: Command }): Promise<void> {
  const { name, file, password, policy } = command.opts<{
    name?: string;
    file: string;
    password?: string;
    policy?: string;
  }>();
  if (name === undefined) throw new CliError('which certificate? Pass --name NAME.');
  const bytes = readInputFile(file, '--file');
  const isPem = bytes.includes('-----BEGIN');
  const body: Record<string, unknown> = {
    value: isPem ? bytes.toString('utf8') : bytes.toString('base64'),
    ...attributesBody(command),
  };
  if (password !== undefined) body['pwd'] = password;
  const givenPolicy = policy === undefined ? {} : policyBody(policy);
  const secretProps = asRecord(givenPolicy['secret_props']);
  // Key Vault reads the file's format from the policy's content type; say what the file is.
  givenPolicy['secret_props'] = {
    ...secretProps,
    contentType: secretProps['contentType'] ?? (isPem ? 'application/x-pem-file' : 'application/x-pkcs12'),
  };
  body['policy'] = givenPolicy;
  const target = objectTarget(command, ['certificates']);
  printShaped(
    command,
    await target.client.call('POST', `${objectPath('certificates', { name: target.name })}/import`, body),
    certificateShape,
    renderCertificate,
  );
}

function downloadAction({ command }: { command: Command }): Promise<void> {
  const { encoding } = command.opts<{ encoding: 'PEM' | 'DER' }>();
  return downloadObject(command, 'certificates', (bundle, name) => {
    const cer = bundle['cer'];
    if (typeof cer !== 'string' || cer === '') {
      throw new CliError(
        `certificate '${name}' has no issued certificate yet. See \`coffer certificate pending show\`.`,
      );
    }
    const der = Buffer.from(cer, 'base64');
    return { data: encoding === 'DER' ? der : new X509Certificate(der).toString(), format: encoding };
  });
}

export function renderCertificate(value: Record<string, unknown>): string {
  const policy = asRecord(value['policy']);
  return renderWithCommon(value, [
    ['Subject', asRecord(policy['x509CertificateProperties'])['subject']],
    ['Issuer', asRecord(policy['issuerParameters'])['name']],
    ['Thumbprint', value['x509ThumbprintHex']],
    ['ID', value['id']],
  ]);
}
