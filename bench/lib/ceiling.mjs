// Starts bench/ceiling-server.mjs as a child process and stops it again.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../ceiling-server.mjs', import.meta.url));

export function startCeiling({ port, tlsDir, bodyBytes }) {
  const args = [SCRIPT, String(port), path.join(tlsDir, 'server.pem'), path.join(tlsDir, 'server-key.pem')];
  const child = spawn(process.execPath, [...args, String(bodyBytes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ceiling server exited with ${code}`)));
    child.stdout.once('data', () => {
      resolve({
        pid: child.pid,
        port,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', done);
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
