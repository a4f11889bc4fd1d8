// The ceiling baseline: a bare Node.js HTTPS server with Coffer's own TLS options and
// certificate, answering every request with a fixed JSON body of a given size and the same
// response headers as a secret get. One process (like Coffer's default), or PROCESSES sharing the
// listener through node:cluster (like `coffer server --workers N`), for the ceiling at N processes.
// Usage: node bench/ceiling-server.mjs PORT CERT_FILE KEY_FILE BODY_BYTES [PROCESSES]
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { tlsServerOptions } from '../dist/src/tls/server-options.js';
import { fixedResponse } from './lib/fixed-response.mjs';

const [port, certFile, keyFile, bodyBytes, processes = '1'] = process.argv.slice(2);

function serve(onListening) {
  const { body, headers } = fixedResponse(Number(bodyBytes));
  const options = tlsServerOptions(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'));
  const server = https.createServer({ ...options, keepAliveTimeout: 72_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  });
  server.listen(Number(port), '127.0.0.1', onListening);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (Number(processes) <= 1) {
  serve(() => console.log('ready'));
} else if (cluster.isPrimary) {
  // The kernel picks the process for each connection, as in Coffer's supervisor.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let listening = 0;
  for (let i = 0; i < Number(processes); i++) cluster.fork();
  cluster.on('listening', () => {
    if (++listening === Number(processes)) console.log('ready');
  });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  serve(() => {});
}
