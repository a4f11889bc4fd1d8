import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ServerOptions } from '../../config/load.js';
import { CliError, sentence } from '../errors.js';
import { addOutputOption, parseInteger } from '../options.js';

/**
 * `coffer server`: the CLI only parses the options; the server itself lives in src/main.ts and
 * is loaded on demand so the other commands never pay for loading it.
 */

export type { ServerOptions };

type StartServer = (options: ServerOptions) => Promise<void>;

// A URL (not a bare specifier) keeps TypeScript from resolving the module at compile time, so the
// CLI builds even before src/main.ts exists; the shape is checked at run time instead.
const SERVER_MODULE = new URL('../../main.js', import.meta.url).href;

export function registerServerCommand(program: Command): void {
  const server = program
    .command('server')
    .description('run the Coffer server in this process')
    .option('--dev', 'ready-to-use development server (NOT FOR PRODUCTION)', false)
    .option('--data-dir <dir>', 'data directory (default ./.coffer-dev)')
    .option('--port <port>', 'TCP port to listen on (default 8443)', parseInteger(0, 65535))
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .option('--config <file>', 'configuration file (production mode)')
    .option(
      '--workers <n>',
      'server processes sharing the port (default 1; the CPUs for PostgreSQL nodes in production)',
      parseInteger(1, 256),
    );
  addOutputOption(server).action(async (_options: unknown, command: Command) => {
    const flags = command.opts<{
      dev: boolean;
      dataDir?: string;
      port?: number;
      host?: string;
      config?: string;
      workers?: number;
    }>();
    const options: ServerOptions = { dev: flags.dev };
    if (flags.dataDir !== undefined) options.dataDir = flags.dataDir;
    if (flags.port !== undefined) options.port = flags.port;
    if (flags.host !== undefined) options.host = flags.host;
    if (flags.config !== undefined) options.configFile = flags.config;
    if (flags.workers !== undefined) options.workers = flags.workers;
    const startServer = await loadStartServer();
    try {
      await startServer(options);
    } catch (error) {
      throw startFailure(error, options);
    }
  });
}

async function loadStartServer(): Promise<StartServer> {
  if (!existsSync(fileURLToPath(SERVER_MODULE))) {
    throw new CliError('the server is not built (dist/src/main.js is missing). Run `npm run build`.');
  }
  const loaded: unknown = await import(SERVER_MODULE);
  const startServer = (loaded as { startServer?: unknown }).startServer;
  if (typeof startServer !== 'function') {
    throw new CliError('dist/src/main.js exports no startServer function. Rebuild with `npm run build`.');
  }
  return startServer as StartServer;
}

/** Startup failures are the server's, not the CLI's: say so, with the usual fixes. */
function startFailure(error: unknown, options: ServerOptions): unknown {
  if (error instanceof CliError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 8443}`;
  if (code === 'EADDRINUSE')
    return new CliError(`${where} is already in use. Stop the other server or pass --port.`);
  if (code === 'EACCES') return new CliError(`not allowed to listen on ${where}. Use a port above 1023.`);
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(`the server failed to start: ${sentence(message)} See the log lines above.`);
}
