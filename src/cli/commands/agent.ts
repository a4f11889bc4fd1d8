import { type Command, Option } from 'commander';
import { startAgent } from '../../agent/agent.js';
import { CertificateFileError } from '../../agent/client-certificate.js';
import { AgentError } from '../../agent/token-source.js';
import { type ConnectionFlags, resolveConnection } from '../connection.js';
import { CliError } from '../errors.js';
import { addOutputOption, outputFormat, parseInteger } from '../options.js';
import { readInputFile, writePrivateFile } from '../files.js';
import { printResult } from '../output.js';

/** `--env-out`, not `--env-file`: Node 20 takes `--env-file` for itself wherever it appears. */
interface AgentFlags extends ConnectionFlags {
  certificate: string;
  host: string;
  port: number;
  envOut?: string;
}

const CONNECTION = 'Connection options:';

/**
 * `coffer agent`: serve one service principal's tokens to local workloads through Azure App
 * Service's managed identity protocol (src/agent). Runs until SIGINT or SIGTERM.
 */
export function registerAgentCommand(program: Command): void {
  const agent = program
    .command('agent')
    .description(
      "serve a managed identity on loopback (IDENTITY_ENDPOINT, IDENTITY_HEADER) from one principal's certificate",
    )
    .requiredOption(
      '--certificate <file>',
      'PEM file with the certificate registered on the principal and its private key',
    )
    .option('--host <addr>', 'loopback address to listen on: 127.0.0.1 or ::1', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', parseInteger(0, 65535), 0)
    .option(
      '--env-out <file>',
      'write IDENTITY_ENDPOINT and IDENTITY_HEADER to FILE (mode 0600) instead of stdout',
    );
  for (const [flags, description] of [
    ['--url <url>', 'server URL, where the token endpoint is (env COFFER_URL)'],
    ['--tenant-id <id>', 'tenant of the principal (env COFFER_TENANT_ID)'],
    ['--client-id <id>', 'client id of the principal whose identity the agent serves (env COFFER_CLIENT_ID)'],
    ['--ca-file <file>', 'PEM file of a CA to trust (env COFFER_CA_FILE)'],
    ['--dev-data-dir <dir>', "read the server's URL, tenant and CA from a dev server's DIR/dev.json"],
  ] as const) {
    agent.addOption(new Option(flags, description).helpGroup(CONNECTION));
  }
  addOutputOption(agent).action(async (_options: unknown, command: Command) => runAgent(command));
}

async function runAgent(command: Command): Promise<void> {
  const flags = command.opts<AgentFlags>();
  const connection = resolveConnection(flags);
  // Only the agent's own flag or variable names its principal, never a dev.json's administrator.
  const clientId = flags.clientId || process.env['COFFER_CLIENT_ID'] || undefined;
  if (connection.tenantId === undefined || clientId === undefined) {
    throw new CliError(
      'the agent needs --tenant-id and --client-id (or COFFER_TENANT_ID and COFFER_CLIENT_ID): the tenant and the principal whose certificate --certificate holds.',
    );
  }
  const started = await startAgent({
    authorityHost: connection.authorityHost,
    tenantId: connection.tenantId,
    clientId,
    certificatePem: readInputFile(flags.certificate, '--certificate').toString('utf8'),
    caPem:
      connection.caFile === undefined
        ? undefined
        : readInputFile(connection.caFile, '--ca-file').toString('utf8'),
    host: flags.host,
    port: flags.port,
    header: process.env['IDENTITY_HEADER'] || undefined,
    log: (line) => process.stderr.write(`coffer agent: ${line}\n`),
  }).catch((error: unknown) => {
    if (error instanceof CertificateFileError) throw new CliError(`${error.message}. Check --certificate.`);
    if (error instanceof AgentError) throw new CliError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`${flags.host}:${flags.port} is in use. Pass another --port.`);
    throw error;
  });
  announce(command, flags, { ...started, clientId });
  await stopSignal();
  await started.close();
}

function announce(
  command: Command,
  flags: AgentFlags,
  started: { endpoint: string; header: string; clientId: string },
): void {
  const lines = `IDENTITY_ENDPOINT=${started.endpoint}\nIDENTITY_HEADER=${started.header}\n`;
  // The agent's own file, rewritten at every start: the header changes each time.
  if (flags.envOut !== undefined)
    writePrivateFile(flags.envOut, lines, { overwrite: true, option: '--env-out' });
  const shown = flags.envOut === undefined ? { identityHeader: started.header } : { envOut: flags.envOut };
  printResult(
    outputFormat(command),
    { identityEndpoint: started.endpoint, clientId: started.clientId, ...shown },
    () =>
      flags.envOut === undefined
        ? lines
        : `IDENTITY_ENDPOINT=${started.endpoint}\n(IDENTITY_HEADER in ${flags.envOut})`,
  );
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
