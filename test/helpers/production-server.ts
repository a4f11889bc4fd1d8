import './loopback-dns.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureDevTls } from '../../src/tls/dev-tls.js';
import { type RawResponse, rawRequest } from './http.js';
import { type ServerProcess, scratchDir, seedTestCa, spawnCoffer } from './server-process.js';

/** A production-mode `coffer server` (no --dev): TLS from files, sealed until an operator unseals it. */
export interface ProductionServer {
  dataDir: string;
  port: number;
  process: ServerProcess;
  /** `https://localhost:PORT`: the authority host and the admin API's base URL. */
  url: string;
  vaultUrl: (vault: string) => string;
  /** A request to the admin or operator API on the bare host, JSON in and out. */
  api: (
    method: string,
    apiPath: string,
    options?: { body?: unknown; token?: string },
  ) => Promise<RawResponse>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** A TCP port that was free a moment ago, for servers that must come back on the same port. */
export { freePort } from '../../src/storage/postgres/pg-test-cluster.js';

/**
 * `coffer server --data-dir DIR --port PORT` in production mode, with a certificate for
 * localhost, *.vault.localhost and 127.0.0.1 signed by the shared test CA. Pass `dataDir` (and
 * `port`) of a stopped server to restart it on the same data.
 */
export async function startProductionServer(
  options: { dataDir?: string; port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ProductionServer> {
  const dataDir = options.dataDir ?? scratchDir('prod');
  const tlsDir = path.join(dataDir, 'tls');
  if (!existsSync(path.join(tlsDir, 'ca.pem'))) seedTestCa(dataDir);
  await ensureDevTls(dataDir, {
    dnsNames: ['localhost', 'vault.localhost', '*.vault.localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const server = spawnCoffer(['server', '--data-dir', dataDir, '--port', String(options.port ?? 0)], {
    COFFER_TLS_CERT_FILE: path.join(tlsDir, 'server.pem'),
    COFFER_TLS_KEY_FILE: path.join(tlsDir, 'server-key.pem'),
    ...options.env,
  });
  const match = await server.waitForOutput(/Coffer listening on https:\/\/127\.0\.0\.1:(\d+) /);
  const port = Number(match[1]);
  const url = `https://localhost:${port}`;
  return {
    dataDir,
    port,
    process: server,
    url,
    vaultUrl: (vault) => `https://${vault}.vault.localhost:${port}`,
    api: (method, apiPath, { body, token } = {}) => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      return rawRequest(`${url}${apiPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    stop: (signal) => server.stop(signal),
  };
}
