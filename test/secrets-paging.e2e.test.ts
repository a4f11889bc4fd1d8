import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SecretClient } from '@azure/keyvault-secrets';
import { fetchToken, rawRequest } from './helpers/http.js';
import { type DevServer, startDevServer } from './helpers/server-process.js';

// Listing secrets, versions and deleted secrets: `maxresults`, `nextLink` paging (raw and through
// the SDK's byPage), and values that are never listed.

interface ListPage {
  value: Array<Record<string, unknown> & { id: string }>;
  nextLink?: string | null;
}

const SECRET_COUNT = 30;
const VERSION_COUNT = 12;
const DELETED_COUNT = 8;
const names = Array.from({ length: SECRET_COUNT }, (_, i) => `page-${String(i).padStart(2, '0')}`);
const valueOf = (name: string) => `listed-value-of-${name}`;

describe('secrets: lists and paging', () => {
  let server: DevServer;
  let client: SecretClient;
  let token: string;
  const versions: string[] = [];

  const get = (url: string) => rawRequest(url, { headers: { authorization: `Bearer ${token}` } });
  const getPage = async (url: string): Promise<ListPage> => {
    const response = await get(url);
    assert.equal(response.status, 200, `${url}: ${response.text}`);
    return response.json() as ListPage;
  };
  /** Follows nextLink unchanged from `firstUrl` to the end; returns every page. */
  const allPages = async (firstUrl: string): Promise<ListPage[]> => {
    const pages: ListPage[] = [];
    let url: string | null | undefined = firstUrl;
    while (url) {
      assert.ok(pages.length <= 100, 'paging ends');
      const page = await getPage(url);
      pages.push(page);
      if (page.nextLink) assert.ok(page.nextLink.startsWith(`${server.facts.vaultUrl}/`), page.nextLink);
      url = page.nextLink;
    }
    return pages;
  };
  const assertNoValues = (pages: ListPage[]) => {
    for (const page of pages) {
      for (const item of page.value)
        assert.ok(!('value' in item), `a listed item has a value: ${JSON.stringify(item)}`);
    }
  };
  const assertExactlyOnce = (seen: string[], expected: string[]) => {
    assert.equal(new Set(seen).size, seen.length, `duplicates in ${seen.join(', ')}`);
    assert.deepEqual([...seen].sort(), [...expected].sort());
  };
  const url = (path: string, query = '') => `${server.facts.vaultUrl}${path}?api-version=7.6${query}`;
  const nameOf = (id: string) => id.split('/')[4] ?? '';

  before(async () => {
    server = await startDevServer();
    client = server.secrets();
    const { authorityHost, tenantId, clientId, clientSecret } = server.facts;
    token = await fetchToken(authorityHost, tenantId, clientId, clientSecret);
    for (const name of names) await client.setSecret(name, valueOf(name), { tags: { kind: 'paging' } });
    for (let i = 0; i < VERSION_COUNT; i++) {
      versions.push((await client.setSecret('many-versions', `version value ${i}`)).properties.version!);
    }
  });
  after(async () => {
    await server.stop();
  });

  describe('GET /secrets', () => {
    it('visits every secret exactly once following nextLink with maxresults=7', async () => {
      const pages = await allPages(url('/secrets', '&maxresults=7'));
      assert.equal(pages.length, Math.ceil((SECRET_COUNT + 1) / 7));
      for (const page of pages) assert.ok(page.value.length <= 7, `a page of ${page.value.length}`);
      for (const page of pages.slice(0, -1)) assert.equal(page.value.length, 7);
      assert.ok(!pages.at(-1)?.nextLink, 'the last page has no nextLink');
      const ids = pages.flatMap((page) => page.value.map((item) => item.id));
      assertExactlyOnce(
        ids,
        [...names, 'many-versions'].map((name) => `${server.facts.vaultUrl}/secrets/${name}`),
      );
    });

    it('never lists values', async () => {
      const pages = await allPages(url('/secrets', '&maxresults=25'));
      assertNoValues(pages);
      for (const page of pages) {
        for (const name of names) assert.ok(!JSON.stringify(page).includes(valueOf(name)));
        for (const item of page.value) {
          assert.equal(typeof (item.attributes as { created?: unknown }).created, 'number');
        }
      }
      const tagged = pages.flatMap((page) => page.value).find((item) => item.id.endsWith('/page-00'));
      assert.deepEqual(tagged?.tags, { kind: 'paging' });
    });

    it('honours maxresults from 1 to 25 and answers up to 25 without it', async () => {
      for (const maxresults of [1, 2, 13, 25]) {
        const page = await getPage(url('/secrets', `&maxresults=${maxresults}`));
        assert.equal(page.value.length, maxresults, `maxresults=${maxresults}`);
        assert.ok(page.nextLink, 'more secrets follow');
      }
      const unbounded = await getPage(url('/secrets'));
      assert.equal(unbounded.value.length, 25);
      assert.ok(unbounded.nextLink);
    });

    it('answers maxresults 0, 26 and non-numbers with 400 and the Azure error JSON', async () => {
      for (const maxresults of ['0', '26', '-3', 'ten', '1.5']) {
        const response = await get(url('/secrets', `&maxresults=${maxresults}`));
        assert.equal(response.status, 400, `maxresults=${maxresults}: ${response.text}`);
        const body = response.json() as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'BadParameter');
        assert.match(body.error.message, /maxresults/);
      }
    });

    it('pages through the SDK with byPage({ maxPageSize: 5 })', async () => {
      const seen: string[] = [];
      let pageCount = 0;
      for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 5 })) {
        pageCount++;
        assert.ok(page.length <= 5, `a page of ${page.length}`);
        for (const properties of page) {
          seen.push(properties.name);
          assert.equal(properties.vaultUrl, server.facts.vaultUrl);
        }
      }
      assert.equal(pageCount, Math.ceil((SECRET_COUNT + 1) / 5));
      assertExactlyOnce(seen, [...names, 'many-versions']);
    });

    it('iterates every secret through the SDK with its default page size', async () => {
      const seen: string[] = [];
      for await (const properties of client.listPropertiesOfSecrets()) seen.push(properties.name);
      assertExactlyOnce(seen, [...names, 'many-versions']);
    });
  });

  describe('GET /secrets/{name}/versions', () => {
    it('visits every version exactly once, raw and through the SDK, without values', async () => {
      const pages = await allPages(url('/secrets/many-versions/versions', '&maxresults=5'));
      assert.equal(pages.length, Math.ceil(VERSION_COUNT / 5));
      assertNoValues(pages);
      const ids = pages.flatMap((page) => page.value.map((item) => item.id));
      assertExactlyOnce(
        ids,
        versions.map((version) => `${server.facts.vaultUrl}/secrets/many-versions/${version}`),
      );

      const seen: string[] = [];
      for await (const page of client
        .listPropertiesOfSecretVersions('many-versions')
        .byPage({ maxPageSize: 5 })) {
        assert.ok(page.length <= 5);
        for (const properties of page) seen.push(properties.version ?? '');
      }
      assertExactlyOnce(seen, versions);
    });

    it('honours maxresults and refuses 0 and 26 for versions too', async () => {
      const page = await getPage(url('/secrets/many-versions/versions', '&maxresults=3'));
      assert.equal(page.value.length, 3);
      const exact = await allPages(url('/secrets/many-versions/versions', '&maxresults=4'));
      assert.deepEqual(
        exact.map((each) => each.value.length),
        [4, 4, 4],
        'twelve versions in pages of four: no empty page at the end',
      );
      for (const maxresults of [0, 26]) {
        const response = await get(url('/secrets/many-versions/versions', `&maxresults=${maxresults}`));
        assert.equal(response.status, 400, response.text);
      }
    });
  });

  describe('GET /deletedsecrets', () => {
    it('lists deleted secrets exactly once, without values, and drops them from the live list', async () => {
      const deleted = names.slice(0, DELETED_COUNT);
      for (const name of deleted)
        await (await client.beginDeleteSecret(name, { intervalInMs: 20 })).pollUntilDone();

      const pages = await allPages(url('/deletedsecrets', '&maxresults=3'));
      assert.equal(pages.length, Math.ceil(DELETED_COUNT / 3));
      assertNoValues(pages);
      for (const item of pages.flatMap((page) => page.value)) {
        assert.equal(item.recoveryId, `${server.facts.vaultUrl}/deletedsecrets/${nameOf(item.id)}`);
        assert.equal(typeof item.deletedDate, 'number');
        assert.equal(typeof item.scheduledPurgeDate, 'number');
      }
      assertExactlyOnce(
        pages.flatMap((page) => page.value.map((item) => nameOf(item.id))),
        deleted,
      );

      const seen: string[] = [];
      for await (const page of client.listDeletedSecrets().byPage({ maxPageSize: 3 })) {
        assert.ok(page.length <= 3);
        for (const secret of page) {
          seen.push(secret.name);
          assert.equal(secret.value, undefined);
          assert.ok(secret.properties.deletedOn instanceof Date);
        }
      }
      assertExactlyOnce(seen, deleted);

      const live: string[] = [];
      for await (const properties of client.listPropertiesOfSecrets()) live.push(properties.name);
      assertExactlyOnce(live, [...names.slice(DELETED_COUNT), 'many-versions']);
    });
  });
});
