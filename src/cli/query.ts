import jmespath from 'jmespath';
import { CliError } from './errors.js';

/**
 * `--query`: JMESPath, as az takes it. The expression is parsed when the option is read, so a
 * typo fails before any request changes anything on the server.
 */

export function parseQuery(text: string): string {
  try {
    jmespath.compile(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      `--query '${text}' is not a JMESPath expression (${reason}). See https://jmespath.org, e.g. --query "[].name".`,
    );
  }
  return text;
}

export function applyQuery(query: string, value: unknown): unknown {
  try {
    return jmespath.search(value, query);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`--query '${query}' failed on this result: ${reason}. Check the expression.`);
  }
}
