/**
 * A failure the user can act on. Its message is the whole stderr line after `coffer: `, so it
 * says what went wrong and what to do next, on one line, and never holds a secret or a token.
 */
export class CliError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'CliError';
  }
}

/** Collapses whitespace so a multi-line server message still fits the one-line promise. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Ends a message with a full stop so a hint can follow it as its own sentence. */
export function sentence(text: string): string {
  const trimmed = oneLine(text);
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** Replaces every occurrence of the given secrets, in case a server echoes one back. */
export function scrub(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) result = result.split(secret).join('***');
  }
  return result;
}

/** The line printed for any failure: our own errors as they are, anything else as a bug. */
export function failureLine(error: unknown): string {
  if (error instanceof CliError) return `coffer: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `coffer: unexpected error: ${sentence(message)} This is a bug in the CLI; please report it.`;
}
