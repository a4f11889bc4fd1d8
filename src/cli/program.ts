import { Command } from 'commander';
import { registerAgentCommand } from './commands/agent.js';
import { registerCertificateCommands } from './commands/certificate.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDevCommands } from './commands/dev.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerEventCommands } from './commands/event.js';
import { registerGroupCommands } from './commands/group.js';
import { registerStorageCommands } from './commands/offline.js';
import { registerHsmCommands } from './commands/hsm.js';
import { registerKeyCommands } from './commands/key.js';
import { registerLoginCommands } from './commands/login.js';
import { registerOperatorCommands } from './commands/operator.js';
import { registerRoleCommands } from './commands/role.js';
import { registerSecretCommands } from './commands/secret.js';
import { registerServerCommand } from './commands/server.js';
import { registerSpCommands } from './commands/sp.js';
import { registerUserCommands } from './commands/user.js';
import { registerVaultCommands } from './commands/vault.js';
import { oneLine, sentence } from './errors.js';

/** The whole `coffer` command tree, ready to parse. */
export function buildProgram(): Command {
  const program = new Command('coffer')
    .description('Coffer: a self-hosted vault speaking the Azure Key Vault REST API')
    .helpCommand(false);
  registerServerCommand(program);
  registerOperatorCommands(program);
  registerVaultCommands(program);
  registerSpCommands(program);
  registerUserCommands(program);
  registerGroupCommands(program);
  registerRoleCommands(program);
  registerStorageCommands(program);
  registerHsmCommands(program);
  registerSecretCommands(program);
  registerKeyCommands(program);
  registerCertificateCommands(program);
  registerLoginCommands(program);
  registerCompletionCommand(program);
  registerAgentCommand(program);
  registerDevCommands(program);
  registerAuditCommands(program);
  registerEventCommands(program);
  useOneLineErrors(program);
  return program;
}

/**
 * Usage mistakes follow the same rule as every other failure: one line on stderr saying what to
 * do next. commander would otherwise print several lines, or a whole help page when a group such
 * as `coffer vault` is run without its subcommand.
 */
function useOneLineErrors(command: Command): void {
  const path = commandPath(command);
  const subcommands = command.commands.map((sub) => sub.name());
  command.configureOutput({
    outputError: (text) => {
      const message = sentence(oneLine(text).replace(/^error: /, ''));
      process.stderr.write(`coffer: ${message} See \`${path} --help\`.\n`);
    },
    // commander writes to stderr only for errors: here, the help it shows for a missing subcommand.
    writeErr: () => {
      process.stderr.write(
        `coffer: \`${path}\` needs a command (${subcommands.join(', ')}). See \`${path} --help\`.\n`,
      );
    },
  });
  for (const sub of command.commands) useOneLineErrors(sub);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(' ');
}
