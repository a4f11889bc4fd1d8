import type { FastifyRequest } from 'fastify';
import { type DataRoute, vaultScope } from '../http/data-plane.js';
import { lifecycleRoutes, objectName } from '../objects/routes.js';
import { SecretActions } from '../policy/actions.js';
import type { SecretService } from './service.js';
import {
  type SecretSetBody,
  type SecretUpdateBody,
  deletedSecretBundle,
  deletedSecretItem,
  propertiesFromWire,
  secretBundle,
  secretItem,
  secretSchemas,
} from './wire.js';

const version = (request: FastifyRequest) => (request.params as { version?: string }).version || undefined;
const secretScope = (request: FastifyRequest) => vaultScope(request, 'secrets', objectName(request));

/** The Secrets API of the Key Vault data plane (secrets.json), route by route. */
export function secretRoutes(secrets: SecretService): DataRoute[] {
  const getSecret = async (request: FastifyRequest) => {
    const { outContentType } = request.query as { outContentType?: string };
    const view = await secrets.get(
      request.vault,
      objectName(request),
      version(request),
      outContentType || undefined,
    );
    return { body: secretBundle(request.baseUrl, request.vault, view, true) };
  };
  const updateSecret = async (request: FastifyRequest) => {
    const properties = propertiesFromWire(request.body as SecretUpdateBody);
    const view = await secrets.updateProperties(
      request.vault,
      objectName(request),
      version(request),
      properties,
    );
    return { body: secretBundle(request.baseUrl, request.vault, view, false) };
  };
  const bundle = { response: { 200: secretSchemas.bundle } };
  const update = { body: secretSchemas.updateBody, ...bundle };

  return [
    {
      method: 'PUT',
      url: '/secrets/:name',
      operation: 'SecretSet',
      action: SecretActions.set,
      scope: secretScope,
      schema: { body: secretSchemas.setBody, ...bundle },
      handler: async (request) => {
        const body = request.body as SecretSetBody;
        const view = await secrets.set(
          request.vault,
          objectName(request),
          body.value,
          propertiesFromWire(body),
        );
        return { body: secretBundle(request.baseUrl, request.vault, view, true) };
      },
    },
    {
      method: 'GET',
      url: '/secrets/:name',
      operation: 'SecretGet',
      action: SecretActions.get,
      scope: secretScope,
      schema: bundle,
      handler: getSecret,
    },
    {
      method: 'GET',
      url: '/secrets/:name/:version',
      operation: 'SecretGet',
      action: SecretActions.get,
      scope: secretScope,
      schema: bundle,
      handler: getSecret,
    },
    {
      method: 'PATCH',
      url: '/secrets/:name',
      operation: 'SecretUpdate',
      action: SecretActions.update,
      scope: secretScope,
      schema: update,
      handler: updateSecret,
    },
    {
      method: 'PATCH',
      url: '/secrets/:name/:version',
      operation: 'SecretUpdate',
      action: SecretActions.update,
      scope: secretScope,
      schema: update,
      handler: updateSecret,
    },
    ...lifecycleRoutes({
      collection: 'secrets',
      operationPrefix: 'Secret',
      lifecycle: secrets,
      actions: { ...SecretActions, read: SecretActions.readMetadata },
      // Restore and recover answer without the value, as Key Vault does.
      bundle: (request, view) => secretBundle(request.baseUrl, request.vault, view, false),
      deletedBundle: (request, view) => deletedSecretBundle(request.baseUrl, request.vault, view),
      item: (request, view, withVersion) => secretItem(request.baseUrl, request.vault, view, withVersion),
      deletedItem: (request, view) => deletedSecretItem(request.baseUrl, request.vault, view),
      schemas: secretSchemas,
    }),
  ];
}
