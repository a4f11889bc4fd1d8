// The ceiling baseline: a bare Node.js HTTPS server (one process, like Coffer) with Coffer's own
// TLS options and certificate, answering every request with a fixed JSON body of a given size
// and the same response headers as a secret get.
// Usage: node bench/ceiling-server.mjs PORT CERT_FILE KEY_FILE BODY_BYTES
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { tlsServerOptions } from '../dist/src/tls/server-options.js';

const [port, certFile, keyFile, bodyBytes] = process.argv.slice(2);
const prefix = '{"value":"';
const suffix = '"}';
const filler = 'x'.repeat(Math.max(0, Number(bodyBytes) - prefix.length - suffix.length));
const body = `${prefix}${filler}${suffix}`;
const headers = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(Buffer.byteLength(body)),
};

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
