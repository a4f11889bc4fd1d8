import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { scratchDir } from '../helpers/server-process.js';

/** One route the server answers: a method and its URL pattern (`/keys/:name/:version/sign`). */
export interface Route {
  method: string;
  url: string;
  /** Parameter names in order of appearance. */
  params: string[];
}

export const routeKey = (route: Pick<Route, 'method' | 'url'>) => `${route.method} ${route.url}`;

/**
 * Every route of the server, read from Fastify's own router after the composition root
 * (`buildApp`, the code `coffer server` runs) registered them: a route added anywhere is fuzzed
 * without anyone editing a list. The app is built on a scratch data dir, never initialised, and
 * closed again; `tlsDir` lends it the running test server's certificate.
 */
export async function serverRoutes(tlsDir: string): Promise<Route[]> {
  const config = loadConfig({ dev: false, dataDir: scratchDir('fuzz-routes'), port: 0 }, {});
  const tls = {
    cert: readFileSync(path.join(tlsDir, 'server.pem'), 'utf8'),
    key: readFileSync(path.join(tlsDir, 'server-key.pem'), 'utf8'),
  };
  const app = await buildApp({ ...config, logLevel: 'silent' }, tls);
  try {
    await app.http.ready();
    return parseRouteTree(app.http.printRoutes({ commonPrefix: false }));
  } finally {
    await app.close();
  }
}

/**
 * Parses Fastify's `printRoutes({ commonPrefix: false })` tree: each line is a path segment
 * under its parent (four columns of indentation per level) with the methods served there.
 * Two parameters sharing a node print as `:name|:objectName`; the first name stands for both.
 */
export function parseRouteTree(tree: string): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const segment = match[2]!.replace(/:([\w$-]+)(?:\|:[\w$-]+)+/g, ':$1');
    stack.length = depth;
    stack.push(segment);
    if (!match[3]) continue;
    const url = stack.join('');
    const params = [...url.matchAll(/:([\w$-]+)/g)].map((param) => param[1]!);
    for (const method of match[3].split(', ')) routes.push({ method, url, params });
  }
  if (routes.length === 0) throw new Error(`no route found in Fastify's route tree:\n${tree}`);
  return routes;
}
