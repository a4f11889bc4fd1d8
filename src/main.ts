import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildApp, type CofferApp } from './app.js';
import { loadConfig, type ServerOptions } from './config/load.js';
import type { CofferConfig } from './config/types.js';
import { type DevFacts, prepareDevServer, unsealDevFollower, writeDevFacts } from './core/dev-setup.js';
import { StoreWithoutSealConfig } from './core/store-state.js';
import { StorageUnavailable } from './errors/index.js';
import { ensureDevTls } from './tls/dev-tls.js';
import { Supervisor } from './supervisor/supervisor.js';
import { workerOf } from './supervisor/worker.js';
import { loadTlsFiles } from './tls/server-options.js';

/** `coffer server`: load configuration, build the app, listen, and stop cleanly on SIGINT/SIGTERM. */
export async function startServer(options: ServerOptions): Promise<void> {
  try {
    await runServer(options);
  } catch (error) {
    // A worker's IPC channel would keep it running after the CLI printed the error: close it, so
    // the worker ends and its supervisor sees the failed start.
    if (cluster.isWorker) process.disconnect();
    throw error;
  }
}

async function runServer(options: ServerOptions): Promise<void> {
  const loaded = loadConfig(options);
  if (loaded.workers > 1 && cluster.isPrimary) return new Supervisor(loaded).run();
  const worker = cluster.isWorker ? workerOf(loaded) : undefined;
  const config = worker?.config ?? loaded;
  const tls = await loadTls(config);
  const app = await buildApp(config, tls.keys, undefined, worker?.relay);
  let admin: Awaited<ReturnType<typeof prepareDevServer>> | undefined;
  try {
    await refuseLostStore(app, config);
    // The first worker prepares a dev store (and writes dev.json); the others start after it.
    if (config.dev && !worker?.follower) admin = await prepareDevServer(app, config);
    else if (config.dev) await unsealDevFollower(app, config);
    await worker?.relay.attach(app.seal);
    // An auto-unseal seal (keyvault, pkcs11) unseals the node itself (now, or as soon as its key answers).
    app.autoUnseal?.start();
    await app.http.listen({ host: config.host, port: config.port });
  } catch (error) {
    // Release the store's lock and worker threads, so the refusal is all that is left.
    await app.close().catch(() => undefined);
    throw error;
  }
  const port = (app.http.server.address() as AddressInfo).port;
  app.setPublicPort(port);
  app.cluster.announce(app.authorityHost());
  worker?.ready();

  if (admin && tls.caFile) {
    const url = app.authorityHost();
    const vaultName = config.defaultVault ?? 'dev';
    const facts: DevFacts = {
      url,
      vaultName,
      vaultUrl: app.vaultUrl(vaultName),
      baseDomain: config.baseDomain,
      tenantId: admin.tenantId,
      subscriptionId: app.subscriptionId(),
      authorityHost: url,
      clientId: admin.clientId,
      clientSecret: admin.clientSecret,
      caFile: tls.caFile,
    };
    writeDevFacts(config.dataDir, facts);
    printDevBanner(facts, config.dataDir);
  } else if (!worker?.follower) {
    process.stdout.write(`Coffer listening on https://${config.host}:${port} (${await startState(app)})\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.http.log.info({ signal }, 'stopping: finishing requests in flight');
    // The HTTP close has its own deadline; this one covers whatever else could hang (the store's
    // last commit on a stalled disk), so a stop never waits without end.
    setTimeout(() => {
      app.http.log.error('shutdown overran its deadline: exiting now');
      process.exit(1);
    }, config.connections.shutdownTimeoutMs + 5000).unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // A worker whose supervisor is gone (killed -9) stops too, rather than serve unsupervised.
  if (worker) process.on('disconnect', () => void stop('disconnect'));
}

/** What an operator must do next; a database still out of reach is not a reason to exit. */
async function startState(app: CofferApp): Promise<string> {
  try {
    const status = await app.seal.status();
    if (!status.initialized) return 'not initialised: run coffer operator init';
    if (app.autoUnseal && status.sealType === 'pkcs11') return 'sealed: unsealing with the HSM seal';
    if (app.autoUnseal && status.sealType === 'keyvault')
      return 'sealed: unsealing itself with its keyvault key';
    return 'sealed: run coffer operator unseal';
  } catch {
    return 'storage unavailable: retrying, see the log';
  }
}

/**
 * Refused before anything runs: a store that could never be unsealed (records without a seal
 * configuration), and a missing or empty store where the commit record shows one existed. A
 * silent new store would hide the loss and invite an initialisation over it. A database out of
 * reach is not refused: the node starts, answers 503 and connects when it can.
 */
async function refuseLostStore(app: CofferApp, config: CofferConfig): Promise<void> {
  let state;
  try {
    state = await app.seal.storeState();
  } catch (error) {
    if (error instanceof StorageUnavailable) return;
    throw error;
  }
  if (state === 'orphaned') throw new StoreWithoutSealConfig();
  if (state === 'empty' && app.commitRecord?.exists()) {
    throw new Error(
      `the store in ${config.dataDir} (coffer.db) is missing or empty, but ${app.commitRecord.file} shows it held data: it was deleted or replaced. ` +
        'Restore coffer.db (with coffer.db-wal if there was one) from a backup of this data dir. ' +
        `Only to start over on purpose, delete ${app.commitRecord.file} too.`,
    );
  }
}

async function loadTls(
  config: CofferConfig,
): Promise<{ keys: { cert: string; key: string }; caFile?: string }> {
  if (config.tls.certFile || config.tls.keyFile) {
    if (!config.tls.certFile || !config.tls.keyFile)
      throw new Error('set both tlsCertFile and tlsKeyFile (COFFER_TLS_CERT_FILE, COFFER_TLS_KEY_FILE).');
    return { keys: loadTlsFiles(config.tls.certFile, config.tls.keyFile) };
  }
  if (!config.dev) {
    throw new Error(
      'a production server needs a TLS certificate: set tlsCertFile and tlsKeyFile in the config file, or COFFER_TLS_CERT_FILE and COFFER_TLS_KEY_FILE. For a local trial run `coffer server --dev`.',
    );
  }
  const names = {
    dnsNames: ['localhost', config.publicHost, config.baseDomain, `*.${config.baseDomain}`],
    ipAddresses: ['127.0.0.1', '::1'],
  };
  const dev = await ensureDevTls(config.dataDir, names);
  return { keys: { cert: dev.cert, key: dev.key }, caFile: path.resolve(dev.caFile) };
}

function printDevBanner(facts: DevFacts, dataDir: string): void {
  const lines = [
    '',
    '  Coffer dev server: NOT FOR PRODUCTION',
    `  The unseal key and the administrator's secret are stored in ${dataDir}.`,
    '',
    JSON.stringify(facts, null, 2),
    '',
    `  Clients: NODE_EXTRA_CA_CERTS=${facts.caFile}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
