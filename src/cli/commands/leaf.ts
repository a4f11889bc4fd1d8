import type { Command } from 'commander';
import { addConnectionOptions, addOutputOption } from '../options.js';

/** What a subcommand does, given itself (for its options) and its positional arguments. */
export type Action = (args: { command: Command; operands: string[] }) => Promise<void>;

/**
 * A subcommand that talks to the server: it takes the connection and output options, and its
 * action receives the parsed command rather than commander's positional callback arguments.
 */
export function leaf(parent: Command, name: string, description: string, action: Action): Command {
  const command = parent.command(name).description(description);
  addConnectionOptions(addOutputOption(command));
  return command.action(async (...args: unknown[]) => {
    // commander passes the command itself last, after the arguments and the options.
    const self = args[args.length - 1] as Command;
    await action({ command: self, operands: self.args });
  });
}
