import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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
