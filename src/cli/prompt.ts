import { CliError } from './errors.js';

/**
 * Reading a secret (an unseal share) without it landing in shell history or on screen: from a
 * pipe, the first line; from a terminal, typed at a prompt that does not echo.
 */

const MAX_LINE = 16 * 1024;

export async function readSecretLine(promptText: string): Promise<string> {
  return (await readSecretLines(1, () => promptText))[0]!;
}

/** `count` secrets (unseal shares), one per line of a pipe or one per hidden prompt. */
export async function readSecretLines(
  count: number,
  promptFor: (index: number) => string,
): Promise<string[]> {
  if (!process.stdin.isTTY) return (await readFirstLines(count)).map((line) => line.trim());
  const lines: string[] = [];
  for (let index = 0; index < count; index++) lines.push((await promptHidden(promptFor(index))).trim());
  return lines;
}

function readFirstLines(count: number): Promise<string[]> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: CliError): void => {
      stdin.off('data', onData).off('end', onEnd).off('error', onError);
      // Destroying (not just pausing) lets the process exit even if the writer keeps the pipe open.
      stdin.destroy();
      if (error) reject(error);
      else resolve(Array.from({ length: count }, (_, index) => text.split(/\r?\n/)[index] ?? ''));
    };
    const onData = (chunk: string): void => {
      text += chunk;
      if (text.split('\n').length > count) finish();
      else if (text.length > MAX_LINE * count)
        finish(new CliError('the line on stdin is too long to be an unseal share.'));
    };
    const onEnd = (): void => finish();
    const onError = (): void =>
      finish(new CliError('cannot read stdin. Pass the share as an argument instead.'));
    stdin.setEncoding('utf8');
    stdin.on('data', onData).on('end', onEnd).on('error', onError);
    stdin.resume();
  });
}

function promptHidden(promptText: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: CliError): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          return;
        }
        if (char === '\u0003') {
          finish(new CliError('cancelled.'));
          return;
        }
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    // The prompt goes to stderr so `--output json` keeps stdout clean.
    process.stderr.write(promptText);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
