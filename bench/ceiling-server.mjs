// The ceiling baseline: a bare Node.js HTTPS server (one process, like Coffer) with Coffer's own
// TLS options and certificate, answering every request with a fixed JSON body of a given size
// and the same response headers as a secret get.
// Usage: node bench/ceiling-server.mjs PORT CERT_FILE KEY_FILE BODY_BYTES
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { tlsServerOptions } from '../dist/src/tls/server-options.js';
import { fixedResponse } from './lib/fixed-response.mjs';

const [port, certFile, keyFile, bodyBytes] = process.argv.slice(2);
const { body, headers } = fixedResponse(Number(bodyBytes));

const options = tlsServerOptions(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'));
const server = https.createServer({ ...options, keepAliveTimeout: 72_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
