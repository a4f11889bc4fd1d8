import { execFile } from 'node:child_process';
import path from 'node:path';
import type { DevServer } from './server-process.js';
import { repoRoot } from './server-process.js';

/** Debian's interpreter, where apt installs python3-azure (a pyenv or venv python would lack it). */
export const PYTHON = process.env.COFFER_TEST_PYTHON ?? '/usr/bin/python3';
const SCENARIO = path.join(repoRoot, 'test', 'python', 'scenario.py');

/** Runs one scenario of test/python/scenario.py against a dev server; its JSON answer, or a failure with Python's traceback. */
export function pythonScenario<T>(server: DevServer, scenario: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [SCENARIO, scenario, ...args],
      {
        cwd: path.dirname(SCENARIO),
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          COFFER_DEV_DATA_DIR: server.dataDir,
          REQUESTS_CA_BUNDLE: server.facts.caFile,
        },
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`python scenario ${scenario} failed:\n${stderr}`, { cause: error }));
        else resolve(JSON.parse(stdout) as T);
      },
    );
  });
}
