import type { FastifyRequest } from 'fastify';
import { type DataRoute, vaultScope } from '../http/data-plane.js';
import { nextLink, parsePageRequest } from '../http/wire/paging.js';
import type { DataAction } from '../policy/actions.js';
import type { ObjectLifecycle } from './lifecycle.js';
import type { DeletedView, ObjectView, Page, VersionRecord } from './types.js';

const NAME_KEY = /^[0-9a-z-]{1,127}$/;
const VERSION_KEY = /^[0-9a-f]{32}$/;
/** A restore body carries every version of an object; the other bodies are small. */
const RESTORE_BODY_LIMIT = 8 * 1024 * 1024;

type Params = { name: string };
type Query = Record<string, unknown>;

export const objectName = (request: FastifyRequest) => (request.params as Params).name;
const query = (request: FastifyRequest) => request.query as Query;

/** How one object kind appears on the wire, for the routes every kind shares. */
export interface LifecycleRouteSpec<R extends VersionRecord> {
  /** `secrets`, `keys`: the URL segment; deleted objects live under `deleted{collection}`. */
  collection: string;
  /** `Secret`, `Key`, `Certificate`: Azure's audit operationNames are this plus the verb. */
  operationPrefix: string;
  lifecycle: ObjectLifecycle<R>;
  actions: {
    read: DataAction;
    delete: DataAction;
    backup: DataAction;
    restore: DataAction;
    recover: DataAction;
    purge: DataAction;
  };
  /** The object as delete-less operations return it (restore, recover): never a secret's value. */
  bundle: (request: FastifyRequest, view: ObjectView<R>) => unknown;
  deletedBundle: (request: FastifyRequest, view: DeletedView<R>) => unknown;
  item: (request: FastifyRequest, view: ObjectView<R>, withVersion: boolean) => unknown;
  deletedItem: (request: FastifyRequest, view: DeletedView<R>) => unknown;
  /** Replaces the plain listing, answering wire items (certificates add pending ones on request). */
  list?: (request: FastifyRequest, after: string | undefined, limit: number) => Promise<Page<unknown>>;
  schemas: { bundle: object; deletedBundle: object; list: object; deletedList: object; backup: object };
}

/**
 * The operations Key Vault offers for every object kind in the same shape: delete, list, list
 * versions, backup, restore, and the deleted-object operations (get, list, recover, purge).
 */
export function lifecycleRoutes<R extends VersionRecord>(spec: LifecycleRouteSpec<R>): DataRoute[] {
  const { collection, lifecycle, actions, schemas } = spec;
  const operation = (verb: string) => `${spec.operationPrefix}${verb}`;
  const deleted = `deleted${collection}`;
  const objectScope = (request: FastifyRequest) => vaultScope(request, collection, objectName(request));
  const vaultWide = (request: FastifyRequest) => vaultScope(request);

  const page = <T>(
    request: FastifyRequest,
    path: string,
    result: { items: T[]; next?: string },
    limit: number,
    map: (item: T) => unknown,
  ) => ({
    body: {
      value: result.items.map(map),
      nextLink: nextLink(request.baseUrl, path, query(request), limit, result.next),
    },
  });

  return [
    {
      method: 'DELETE',
      url: `/${collection}/:name`,
      operation: operation('Delete'),
      action: actions.delete,
      scope: objectScope,
      schema: { response: { 200: schemas.deletedBundle } },
      handler: async (request) => ({
        body: await spec.deletedBundle(request, await lifecycle.delete(request.vault, objectName(request))),
      }),
    },
    {
      method: 'GET',
      url: `/${collection}`,
      operation: operation('List'),
      action: actions.read,
      listing: true,
      scope: vaultWide,
      schema: { response: { 200: schemas.list } },
      handler: async (request) => {
        const { after, limit } = parsePageRequest(query(request), NAME_KEY);
        if (spec.list)
          return page(
            request,
            `/${collection}`,
            await spec.list(request, after, limit),
            limit,
            (item) => item,
          );
        const result = await lifecycle.list(request.vault, after, limit);
        return page(request, `/${collection}`, result, limit, (view) => spec.item(request, view, false));
      },
    },
    {
      method: 'GET',
      url: `/${collection}/:name/versions`,
      operation: operation('ListVersions'),
      action: actions.read,
      listing: true,
      scope: objectScope,
      schema: { response: { 200: schemas.list } },
      handler: async (request) => {
        const { after, limit } = parsePageRequest(query(request), VERSION_KEY);
        const result = await lifecycle.listVersions(request.vault, objectName(request), after, limit);
        return page(request, `/${collection}/${objectName(request)}/versions`, result, limit, (view) =>
          spec.item(request, view, true),
        );
      },
    },
    {
      method: 'POST',
      url: `/${collection}/:name/backup`,
      operation: operation('Backup'),
      action: actions.backup,
      readOnly: true,
      scope: objectScope,
      schema: { response: { 200: schemas.backup } },
      handler: async (request) => ({
        body: { value: await lifecycle.backup(request.vault, objectName(request)) },
      }),
    },
    {
      method: 'POST',
      url: `/${collection}/restore`,
      operation: operation('Restore'),
      action: actions.restore,
      scope: vaultWide,
      bodyLimit: RESTORE_BODY_LIMIT,
      schema: {
        body: { type: 'object', required: ['value'], properties: { value: { type: 'string' } } },
        response: { 200: schemas.bundle },
      },
      handler: async (request) => ({
        body: await spec.bundle(
          request,
          await lifecycle.restore(request.vault, (request.body as { value: string }).value),
        ),
      }),
    },
    {
      method: 'GET',
      url: `/${deleted}`,
      operation: operation('ListDeleted'),
      action: actions.read,
      listing: true,
      scope: vaultWide,
      schema: { response: { 200: schemas.deletedList } },
      handler: async (request) => {
        const { after, limit } = parsePageRequest(query(request), NAME_KEY);
        const result = await lifecycle.listDeleted(request.vault, after, limit);
        return page(request, `/${deleted}`, result, limit, (view) => spec.deletedItem(request, view));
      },
    },
    {
      method: 'GET',
      url: `/${deleted}/:name`,
      operation: operation('GetDeleted'),
      action: actions.read,
      // Reading one deleted object needs `get` under access policies, as Azure documents.
      listing: false,
      scope: objectScope,
      schema: { response: { 200: schemas.deletedBundle } },
      handler: async (request) => ({
        body: await spec.deletedBundle(
          request,
          await lifecycle.getDeleted(request.vault, objectName(request)),
        ),
      }),
    },
    {
      method: 'POST',
      url: `/${deleted}/:name/recover`,
      operation: operation('Recover'),
      action: actions.recover,
      scope: objectScope,
      schema: { response: { 200: schemas.bundle } },
      handler: async (request) => ({
        body: await spec.bundle(request, await lifecycle.recover(request.vault, objectName(request))),
      }),
    },
    {
      method: 'DELETE',
      url: `/${deleted}/:name`,
      operation: operation('Purge'),
      action: actions.purge,
      scope: objectScope,
      handler: async (request) => {
        await lifecycle.purge(request.vault, objectName(request));
        return { status: 204 };
      },
    },
  ];
}
