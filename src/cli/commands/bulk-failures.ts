import { CliError } from '../errors.js';

/**
 * The one error line after a bulk operation in which some objects failed: how many, the first
 * reason (which usually names the fix), and that the others went through.
 */
export function failureSummary(
  failures: { name: string; error: unknown }[],
  total: number,
  verb: string,
): CliError {
  const first = failures[0];
  const reason = first?.error instanceof Error ? first.error.message : String(first?.error);
  const names = failures
    .slice(0, 5)
    .map((failure) => failure.name)
    .join(', ');
  const more = failures.length > 5 ? ` and ${failures.length - 5} more` : '';
  return new CliError(
    `${failures.length} of ${total} could not ${verb} (${names}${more})${failures.length < total ? '; the others did' : ''}. First reason: ${reason} Fix that and run the command again.`,
  );
}
