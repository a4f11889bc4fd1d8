import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchToken, type RawResponse, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Issue 11 (low): the Host header's port part was copied into `id` and `nextLink`, so
// `Host: dev.vault.localhost:1@evil.example` made a nextLink to evil.example. Only a
// syntactically valid host and port are accepted; every URL is built from the parsed pair.

const FORGED_HOSTS = [
  'dev.vault.localhost:1@evil.example',
  'user@dev.vault.localhost',
  'dev.vault.localhost:443/evil.example',
  'dev.vault.localhost#@evil.example',
  'dev.vault.localhost?evil.example',
  'dev.vault.localhost\\evil.example',
  'dev.vault.localhost:1:2',
  'dev.vault.localhost:',
  'dev.vault.localhost:0',
  'dev.vault.localhost:65536',
  'dev.vault.localhost:99999999',
  'dev.vault.localhost:+443',
  'dev.vault.localhost: 443',
  'dev vault.localhost',
  '[::1',
  '[::1]evil.example',
  '[zz::1]',
  '[v1.evil]',
  '[fe80::1%25eth0]',
  '"dev.vault.localhost"',
  'dev.vault.localhost<script>',
];

/** Every absolute URL in a response body, e.g. `id`, `kid`, `nextLink`. */
const urlsIn = (text: string) => [...text.matchAll(/https?:\/\/[^"\s]+/g)].map((match) => match[0]);

describe('Host header', () => {
  let server: DevServer;
  let token: string;
  let port: string;

  /** A request to the server's address with a Host header of our choosing. */
  const withHost = (host: string, path: string): Promise<RawResponse> =>
    rawRequest(`https://127.0.0.1:${port}${path}`, {
      headers: { host, authorization: `Bearer ${token}` },
      servername: 'localhost',
    });

  before(async () => {
    server = await startDevServer();
    const { facts } = server;
    port = new URL(facts.url).port;
    token = await fetchToken(facts.authorityHost, facts.tenantId, facts.clientId, facts.clientSecret);
    const secrets = server.secrets();
    for (const name of ['one', 'two', 'three']) await secrets.setSecret(name, `value of ${name}`);
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
  });

  it('answers 400 BadParameter in Azure’s error JSON to a Host that is not a host and port', async () => {
    for (const host of FORGED_HOSTS) {
      for (const path of ['/secrets?api-version=7.6&maxresults=1', '/coffer/vaults', '/healthz']) {
        const response = await withHost(host, path);
        assert.equal(response.status, 400, `${host} ${path}: ${response.status} ${response.text}`);
        const { error } = response.json() as { error: { code: string; message: string } };
        assert.equal(error.code, 'BadParameter', host);
        assert.match(error.message, /Host header/, host);
        assert.ok(!response.text.includes('evil'), `${host}: ${response.text}`);
      }
    }
  });

  it('builds id and nextLink from the parsed host and port, for names, IPv4 and IPv6 literals', async () => {
    for (const [host, base] of [
      [`dev.vault.localhost:${port}`, `https://dev.vault.localhost:${port}`],
      ['DEV.Vault.LocalHost:08443', 'https://dev.vault.localhost:8443'],
      ['dev.vault.localhost', 'https://dev.vault.localhost'],
      [`127.0.0.1:${port}`, `https://127.0.0.1:${port}`],
      ['[::1]:65535', 'https://[::1]:65535'],
      ['[::1]', 'https://[::1]'],
    ]) {
      const response = await withHost(host!, '/secrets?api-version=7.6&maxresults=1');
      assert.equal(response.status, 200, `${host}: ${response.text}`);
      const page = response.json() as { value: { id: string }[]; nextLink: string };
      assert.ok(page.nextLink.startsWith(`${base}/secrets?`), `${host}: ${page.nextLink}`);
      assert.ok(page.value[0]!.id.startsWith(`${base}/secrets/`), `${host}: ${page.value[0]!.id}`);
      for (const url of urlsIn(response.text)) assert.equal(new URL(url).origin, base, `${host}: ${url}`);
      const next = await withHost(host!, page.nextLink.slice(base!.length));
      assert.equal(next.status, 200, `${host}: following nextLink`);
    }
  });
});
