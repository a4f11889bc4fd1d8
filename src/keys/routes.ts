import type { FastifyRequest } from 'fastify';
import { type DataRoute, vaultScope } from '../http/data-plane.js';
import { lifecycleRoutes } from '../objects/routes.js';
import { given } from '../http/wire/schemas.js';
import { toBase64Url } from '../lib/base64.js';
import { KeyActions } from '../policy/actions.js';
import type { KeyService } from './service.js';
import type { KeyView } from './types.js';
import {
  type KeyCreateBody,
  type KeyImportBody,
  type KeyPropertiesBody,
  binaryField,
  deletedKeyBundle,
  deletedKeyItem,
  keyBundle,
  keyItem,
  keySchemas,
  operationResult,
  propertiesFromWire,
  rotationPolicyBody,
} from './wire.js';

type Params = { name: string; version?: string };
type OperationBody = {
  alg: string;
  value: string;
  iv?: string | null;
  aad?: string | null;
  tag?: string | null;
};

const params = (request: FastifyRequest) => request.params as Params;
const version = (request: FastifyRequest) => params(request).version || undefined;
const keyScope = (request: FastifyRequest) => vaultScope(request, 'keys', params(request).name);

/** The Keys API of the Key Vault data plane (keys.json), route by route. */
export function keyRoutes(keys: KeyService): DataRoute[] {
  const bundle = (request: FastifyRequest, view: KeyView) =>
    keyBundle(request.baseUrl, request.vault, view, keys.publicKey(view.record));
  const bundleSchema = { response: { 200: keySchemas.bundle } };

  const getKey = async (request: FastifyRequest) => ({
    body: bundle(request, await keys.get(request.vault, params(request).name, version(request))),
  });
  const updateKey = async (request: FastifyRequest) => {
    const properties = propertiesFromWire(request.body as KeyPropertiesBody);
    return {
      body: bundle(
        request,
        await keys.updateProperties(request.vault, params(request).name, version(request), properties),
      ),
    };
  };

  /** Each cryptographic operation, with and without a version in the path. */
  const operation = (
    segment: string,
    auditName: string,
    action: DataRoute['action'],
    schema: object,
    run: (request: FastifyRequest) => Promise<unknown>,
  ): DataRoute[] =>
    ['/keys/:name/:version/', '/keys/:name/'].map((prefix) => ({
      method: 'POST' as const,
      url: `${prefix}${segment}`,
      operation: auditName,
      action,
      // A cryptographic operation reads its key and stores nothing.
      readOnly: true,
      scope: keyScope,
      schema: {
        body: schema,
        response: { 200: segment === 'verify' ? keySchemas.verifyResult : keySchemas.operationResult },
      },
      handler: async (request: FastifyRequest) => ({ body: await run(request) }),
    }));

  const cipherInput = (request: FastifyRequest) => {
    const body = request.body as OperationBody;
    return {
      alg: body.alg,
      value: binaryField(body.value, 'value')!,
      iv: binaryField(given(body.iv), 'iv'),
      aad: binaryField(given(body.aad), 'aad'),
      tag: binaryField(given(body.tag), 'tag'),
    };
  };
  const name = (request: FastifyRequest) => params(request).name;

  return [
    {
      method: 'POST',
      url: '/keys/:name/create',
      operation: 'KeyCreate',
      action: KeyActions.create,
      scope: keyScope,
      schema: { body: keySchemas.createBody, ...bundleSchema },
      handler: async (request) => {
        const body = request.body as KeyCreateBody;
        const view = await keys.create(request.vault, name(request), {
          ...propertiesFromWire(body),
          kty: body.kty,
          keySize: given(body.key_size),
          curve: given(body.crv),
          publicExponent: given(body.public_exponent),
        });
        return { body: bundle(request, view) };
      },
    },
    {
      method: 'PUT',
      url: '/keys/:name',
      operation: 'KeyImport',
      action: KeyActions.import,
      scope: keyScope,
      schema: { body: keySchemas.importBody, ...bundleSchema },
      handler: async (request) => {
        const body = request.body as KeyImportBody;
        const view = await keys.importKey(
          request.vault,
          name(request),
          body.key,
          propertiesFromWire(body),
          body.Hsm === true,
        );
        return { body: bundle(request, view) };
      },
    },
    {
      method: 'GET',
      url: '/keys/:name',
      operation: 'KeyGet',
      action: KeyActions.read,
      scope: keyScope,
      schema: bundleSchema,
      handler: getKey,
    },
    {
      method: 'GET',
      url: '/keys/:name/:version',
      operation: 'KeyGet',
      action: KeyActions.read,
      scope: keyScope,
      schema: bundleSchema,
      handler: getKey,
    },
    {
      method: 'PATCH',
      url: '/keys/:name',
      operation: 'KeyUpdate',
      action: KeyActions.update,
      scope: keyScope,
      schema: { body: keySchemas.updateBody, ...bundleSchema },
      handler: updateKey,
    },
    {
      method: 'PATCH',
      url: '/keys/:name/:version',
      operation: 'KeyUpdate',
      action: KeyActions.update,
      scope: keyScope,
      schema: { body: keySchemas.updateBody, ...bundleSchema },
      handler: updateKey,
    },
    {
      method: 'POST',
      url: '/keys/:name/rotate',
      operation: 'KeyRotate',
      action: KeyActions.rotate,
      scope: keyScope,
      schema: bundleSchema,
      handler: async (request) => ({
        body: bundle(request, await keys.rotate(request.vault, name(request))),
      }),
    },
    {
      method: 'GET',
      url: '/keys/:name/rotationpolicy',
      operation: 'KeyRotationPolicyGet',
      action: KeyActions.readRotationPolicy,
      scope: keyScope,
      schema: { response: { 200: keySchemas.rotationPolicy } },
      handler: async (request) => ({
        body: rotationPolicyBody(
          request.baseUrl,
          name(request),
          await keys.getRotationPolicy(request.vault, name(request)),
        ),
      }),
    },
    {
      method: 'PUT',
      url: '/keys/:name/rotationpolicy',
      operation: 'KeyRotationPolicySet',
      action: KeyActions.writeRotationPolicy,
      scope: keyScope,
      schema: { body: keySchemas.rotationPolicyBody, response: { 200: keySchemas.rotationPolicy } },
      handler: async (request) => {
        const body = request.body as {
          lifetimeActions?: [];
          attributes?: { expiryTime?: string | null } | null;
        };
        const policy = await keys.setRotationPolicy(request.vault, name(request), {
          lifetimeActions: given(body.lifetimeActions) ?? [],
          expiryTime: given(given(body.attributes)?.expiryTime),
        });
        return { body: rotationPolicyBody(request.baseUrl, name(request), policy) };
      },
    },
    ...operation('encrypt', 'KeyEncrypt', KeyActions.encrypt, keySchemas.operationBody, async (request) => {
      const out = await keys.encrypt(request.vault, name(request), version(request), cipherInput(request));
      return operationResult(request.baseUrl, out.view, out);
    }),
    ...operation('decrypt', 'KeyDecrypt', KeyActions.decrypt, keySchemas.operationBody, async (request) => {
      const out = await keys.decrypt(request.vault, name(request), version(request), cipherInput(request));
      return operationResult(request.baseUrl, out.view, out);
    }),
    ...operation('wrapkey', 'KeyWrap', KeyActions.wrap, keySchemas.operationBody, async (request) => {
      const out = await keys.wrapKey(request.vault, name(request), version(request), cipherInput(request));
      return operationResult(request.baseUrl, out.view, out);
    }),
    ...operation('unwrapkey', 'KeyUnwrap', KeyActions.unwrap, keySchemas.operationBody, async (request) => {
      const out = await keys.unwrapKey(request.vault, name(request), version(request), cipherInput(request));
      return operationResult(request.baseUrl, out.view, out);
    }),
    ...operation('sign', 'KeySign', KeyActions.sign, keySchemas.signBody, async (request) => {
      const body = request.body as { alg: string; value: string };
      const out = await keys.sign(
        request.vault,
        name(request),
        version(request),
        body.alg,
        binaryField(body.value, 'value')!,
      );
      return operationResult(request.baseUrl, out.view, out);
    }),
    ...operation('verify', 'KeyVerify', KeyActions.verify, keySchemas.verifyBody, async (request) => {
      const body = request.body as { alg: string; digest: string; value: string };
      const digest = binaryField(body.digest, 'digest')!;
      const signature = binaryField(body.value, 'value')!;
      const out = await keys.verify(
        request.vault,
        name(request),
        version(request),
        body.alg,
        digest,
        signature,
      );
      return { value: out.valid };
    }),
    ...lifecycleRoutes({
      collection: 'keys',
      operationPrefix: 'Key',
      lifecycle: keys,
      actions: KeyActions,
      bundle,
      deletedBundle: (request, view) =>
        deletedKeyBundle(request.baseUrl, request.vault, view, keys.publicKey(view.record)),
      item: (request, view, withVersion) => keyItem(request.baseUrl, request.vault, view, withVersion),
      deletedItem: (request, view) => deletedKeyItem(request.baseUrl, request.vault, view),
      schemas: { ...keySchemas, backup: keySchemas.valueResult },
    }),
    {
      method: 'POST',
      url: '/rng',
      operation: 'KeyGetRandomBytes',
      action: KeyActions.random,
      readOnly: true,
      scope: (request) => vaultScope(request),
      schema: { body: keySchemas.randomBody, response: { 200: keySchemas.valueResult } },
      handler: async (request) => ({
        body: { value: toBase64Url(keys.randomBytes((request.body as { count: number }).count)) },
      }),
    },
  ];
}
