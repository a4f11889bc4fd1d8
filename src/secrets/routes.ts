import type { FastifyRequest } from 'fastify';
import { type DataRoute, vaultScope } from '../http/data-plane.js';
import { nextLink, parsePageRequest } from '../http/wire/paging.js';
import { SecretActions } from '../policy/actions.js';
import type { SecretService } from './service.js';
import {
  deletedSecretBundle,
  deletedSecretItem,
  propertiesFromWire,
  type SecretSetBody,
  type SecretUpdateBody,
  secretBundle,
  secretItem,
  secretSchemas,
} from './wire.js';

type Params = { name: string; version?: string };
type Query = Record<string, unknown>;

const NAME_KEY = /^[0-9a-z-]{1,127}$/;
const VERSION_KEY = /^[0-9a-f]{32}$/;
/** A restore body carries every version of a secret; the other bodies are small. */
const RESTORE_BODY_LIMIT = 8 * 1024 * 1024;

const params = (request: FastifyRequest) => request.params as Params;
const query = (request: FastifyRequest) => request.query as Query;
const secretScope = (request: FastifyRequest) => vaultScope(request, 'secrets', params(request).name);
const vaultWide = (request: FastifyRequest) => vaultScope(request);

/** The Secrets API of the Key Vault data plane (secrets.json), route by route. */
export function secretRoutes(secrets: SecretService): DataRoute[] {
  const getSecret = async (request: FastifyRequest) => {
    const view = await secrets.get(request.vault, params(request).name, params(request).version || undefined);
    return { body: secretBundle(request.baseUrl, request.vault, view, true) };
  };
  const updateSecret = async (request: FastifyRequest) => {
    const { name, version } = params(request);
    const view = await secrets.updateProperties(
      request.vault,
      name,
      version || undefined,
      propertiesFromWire(request.body as SecretUpdateBody),
    );
    return { body: secretBundle(request.baseUrl, request.vault, view, false) };
  };
  const bundle = { response: { 200: secretSchemas.bundle } };

  return [
    {
      method: 'PUT',
      url: '/secrets/:name',
      action: SecretActions.set,
      scope: secretScope,
      schema: { body: secretSchemas.setBody, ...bundle },
      handler: async (request) => {
        const body = request.body as SecretSetBody;
        const view = await secrets.set(
          request.vault,
          params(request).name,
          body.value,
          propertiesFromWire(body),
        );
        return { body: secretBundle(request.baseUrl, request.vault, view, true) };
      },
    },
    {
      method: 'GET',
      url: '/secrets/:name',
      action: SecretActions.get,
      scope: secretScope,
      schema: bundle,
      handler: getSecret,
    },
    {
      method: 'GET',
      url: '/secrets/:name/:version',
      action: SecretActions.get,
      scope: secretScope,
      schema: bundle,
      handler: getSecret,
    },
    {
      method: 'PATCH',
      url: '/secrets/:name',
      action: SecretActions.update,
      scope: secretScope,
      schema: { body: secretSchemas.updateBody, ...bundle },
      handler: updateSecret,
    },
    {
      method: 'PATCH',
      url: '/secrets/:name/:version',
      action: SecretActions.update,
      scope: secretScope,
      schema: { body: secretSchemas.updateBody, ...bundle },
      handler: updateSecret,
    },
    {
      method: 'DELETE',
      url: '/secrets/:name',
      action: SecretActions.delete,
      scope: secretScope,
      schema: { response: { 200: secretSchemas.deletedBundle } },
      handler: async (request) => {
        const view = await secrets.delete(request.vault, params(request).name);
        return { body: deletedSecretBundle(request.baseUrl, request.vault, view) };
      },
    },
    {
      method: 'GET',
      url: '/secrets',
      action: SecretActions.readMetadata,
      scope: vaultWide,
      schema: { response: { 200: secretSchemas.list } },
      handler: async (request) => {
        const page = parsePageRequest(query(request), NAME_KEY);
        const result = await secrets.list(request.vault, page.after, page.limit);
        return {
          body: {
            value: result.items.map((view) => secretItem(request.baseUrl, request.vault, view, false)),
            nextLink: nextLink(request.baseUrl, '/secrets', query(request), page.limit, result.next),
          },
        };
      },
    },
    {
      method: 'GET',
      url: '/secrets/:name/versions',
      action: SecretActions.readMetadata,
      scope: secretScope,
      schema: { response: { 200: secretSchemas.list } },
      handler: async (request) => {
        const { name } = params(request);
        const page = parsePageRequest(query(request), VERSION_KEY);
        const result = await secrets.listVersions(request.vault, name, page.after, page.limit);
        return {
          body: {
            value: result.items.map((view) => secretItem(request.baseUrl, request.vault, view, true)),
            nextLink: nextLink(
              request.baseUrl,
              `/secrets/${name}/versions`,
              query(request),
              page.limit,
              result.next,
            ),
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/secrets/:name/backup',
      action: SecretActions.backup,
      scope: secretScope,
      schema: { response: { 200: secretSchemas.backup } },
      handler: async (request) => ({
        body: { value: await secrets.backup(request.vault, params(request).name) },
      }),
    },
    {
      method: 'POST',
      url: '/secrets/restore',
      action: SecretActions.restore,
      scope: vaultWide,
      bodyLimit: RESTORE_BODY_LIMIT,
      schema: { body: secretSchemas.restoreBody, ...bundle },
      handler: async (request) => {
        const view = await secrets.restore(request.vault, (request.body as { value: string }).value);
        return { body: secretBundle(request.baseUrl, request.vault, view, false) };
      },
    },
    {
      method: 'GET',
      url: '/deletedsecrets',
      action: SecretActions.readMetadata,
      scope: vaultWide,
      schema: { response: { 200: secretSchemas.deletedList } },
      handler: async (request) => {
        const page = parsePageRequest(query(request), NAME_KEY);
        const result = await secrets.listDeleted(request.vault, page.after, page.limit);
        return {
          body: {
            value: result.items.map((view) => deletedSecretItem(request.baseUrl, request.vault, view)),
            nextLink: nextLink(request.baseUrl, '/deletedsecrets', query(request), page.limit, result.next),
          },
        };
      },
    },
    {
      method: 'GET',
      url: '/deletedsecrets/:name',
      action: SecretActions.readMetadata,
      scope: secretScope,
      schema: { response: { 200: secretSchemas.deletedBundle } },
      handler: async (request) => {
        const view = await secrets.getDeleted(request.vault, params(request).name);
        return { body: deletedSecretBundle(request.baseUrl, request.vault, view) };
      },
    },
    {
      method: 'POST',
      url: '/deletedsecrets/:name/recover',
      action: SecretActions.recover,
      scope: secretScope,
      schema: bundle,
      handler: async (request) => {
        const view = await secrets.recover(request.vault, params(request).name);
        return { body: secretBundle(request.baseUrl, request.vault, view, false) };
      },
    },
    {
      method: 'DELETE',
      url: '/deletedsecrets/:name',
      action: SecretActions.purge,
      scope: secretScope,
      handler: async (request) => {
        await secrets.purge(request.vault, params(request).name);
        return { status: 204 };
      },
    },
  ];
}
