import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildApp, type CofferApp } from './app.js';
import { loadConfig, type ServerOptions } from './config/load.js';
import type { CofferConfig } from './config/types.js';
import { type DevFacts, prepareDevServer, writeDevFacts } from './core/dev-setup.js';
import { keepAutoUnsealing } from './core/auto-unseal.js';
import { ensureDevTls } from './tls/dev-tls.js';
import { loadTlsFiles } from './tls/server-options.js';

/** `coffer server`: load configuration, build the app, listen, and stop cleanly on SIGINT/SIGTERM. */
export async function startServer(options: ServerOptions): Promise<void> {
  const config = loadConfig(options);
  const tls = await loadTls(config);
  const app = await buildApp(config, tls.keys);
  const admin = config.dev ? await prepareDevServer(app, config) : undefined;

  await app.http.listen({ host: config.host, port: config.port });
  const port = (app.http.server.address() as AddressInfo).port;
  app.setPublicPort(port);
  app.cluster.announce(app.authorityHost());

  if (admin && tls.caFile) {
    const url = app.authorityHost();
    const vaultName = config.defaultVault ?? 'dev';
    const facts: DevFacts = {
      url,
      vaultName,
      vaultUrl: app.vaultUrl(vaultName),
      baseDomain: config.baseDomain,
      tenantId: admin.tenantId,
      authorityHost: url,
      clientId: admin.clientId,
      clientSecret: admin.clientSecret,
      caFile: tls.caFile,
    };
    writeDevFacts(config.dataDir, facts);
    printDevBanner(facts, config.dataDir);
  } else {
    process.stdout.write(`Coffer listening on https://${config.host}:${port} (${await startState(app)})\n`);
  }
  const autoUnseal = config.dev ? undefined : keepAutoUnsealing(app.seal, app.http.log);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.http.log.info({ signal }, 'stopping: finishing requests in flight');
    autoUnseal?.stop();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** What an operator must do next; a database still out of reach is not a reason to exit. */
async function startState(app: CofferApp): Promise<string> {
  try {
    const status = await app.seal.status();
    if (!status.initialized) return 'not initialised: run coffer operator init';
    if (status.sealType === 'keyvault' || status.sealType === 'pkcs11')
      return `sealed: unsealing itself with its ${status.sealType} key`;
    return 'sealed: run coffer operator unseal';
  } catch {
    return 'storage unavailable: retrying, see the log';
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
