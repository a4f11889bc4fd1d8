import { failureLine } from './errors.js';
import { buildProgram } from './program.js';

// The `coffer` command (bin/coffer.js imports this file). Every failure ends here: one line on
// stderr and exit status 1, while stdout keeps only what the command printed on success.

// A reader that closes the pipe early (`coffer vault list | head -1`) is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`${failureLine(error)}\n`);
  process.exitCode = 1;
}
