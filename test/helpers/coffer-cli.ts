import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cofferBin, repoRoot } from './server-process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `coffer ARGS --dev-data-dir DIR`, as a user would against a dev server. */
export function cofferCli(dataDir: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cofferBin, ...args, '--dev-data-dir', dataDir],
      { cwd: repoRoot, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A successful `--output json` run, parsed. */
export async function cofferJson<T>(dataDir: string, args: string[]): Promise<T> {
  const result = await cofferCli(dataDir, [...args, '--output', 'json']);
  assert.equal(result.code, 0, `coffer ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * `coffer audit tail --follow -n 1 --output json` against a dev server, left running: `lines()`
 * is every record it has printed so far, parsed (the first is the latest record when it started).
 * Call `stop()` when done.
 */
export function followAuditTail<T>(dataDir: string) {
  const follower = spawn(
    process.execPath,
    [cofferBin, 'audit', 'tail', '--follow', '-n', '1', '--output', 'json', '--dev-data-dir', dataDir],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  follower.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return {
    lines: (): T[] =>
      output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as T),
    stop: () => follower.kill(),
  };
}
