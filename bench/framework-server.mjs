// The framework floor: the ceiling's fixed response served through Fastify (Coffer's HTTP
// framework, same version, same TLS options), one route and no work at all. Not a baseline of
// the issue's; it shows how much of the ceiling a Fastify server keeps before doing anything,
// which bounds what any Coffer scenario can reach.
// Usage: node bench/framework-server.mjs PORT CERT_FILE KEY_FILE BODY_BYTES
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { tlsServerOptions } from '../dist/src/tls/server-options.js';
import { fixedResponse } from './lib/fixed-response.mjs';

const [port, certFile, keyFile, bodyBytes] = process.argv.slice(2);
const { body, headers } = fixedResponse(Number(bodyBytes));
const app = Fastify({
  https: tlsServerOptions(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8')),
  keepAliveTimeout: 72_000,
  logger: false,
});
app.get('/secrets/:name/', (request, reply) => {
  reply.headers(headers).send(body);
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log('ready');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
