import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.js';

/**
 * Imports a module of the server's build when a command needs it, so the other commands never
 * pay for loading it; when it is missing, says how to build it. `what` names it for the user
 * ("the server", "the backup tools"), `builtPath` is where it should be (dist/src/...).
 */
export async function importBuilt<T>(moduleUrl: string, what: string, builtPath: string): Promise<T> {
  if (!existsSync(fileURLToPath(moduleUrl))) {
    throw new CliError(`${what} is not built (${builtPath} is missing). Run \`npm run build\`.`);
  }
  return (await import(moduleUrl)) as T;
}
