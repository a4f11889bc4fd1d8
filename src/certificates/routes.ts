import type { FastifyRequest } from 'fastify';
import type { DataRoute } from '../http/data-plane.js';
import { given } from '../http/wire/schemas.js';
import { BadParameter } from '../errors/index.js';
import { certificatesOfEntry } from '../crypto/formats/index.js';
import { lifecycleRoutes, objectName } from '../objects/routes.js';
import { CertificateActions } from '../policy/actions.js';
import { contactRoutes, issuerRoutes } from './issuer-routes.js';
import { route } from './route.js';
import type { CertificateService } from './service.js';
import type { CertificateView, DeletedCertificateView } from './types.js';
import {
  type AttributesBody,
  type CreateBody,
  type ImportBody,
  type MergeBody,
  attributesFromWire,
  certificateBundle,
  certificateItem,
  certificateSchemas as schemas,
  deletedCertificateBundle,
  deletedCertificateItem,
  operationBody,
  pendingCertificateBundle,
  pendingCertificateItem,
} from './wire.js';
import { type PolicyBody, policyFromWire, policyToWire } from './wire-policy.js';

const version = (request: FastifyRequest) => (request.params as { version?: string }).version || undefined;

/** The certificates of an x5c entry: standard base64 of the DER, or of its PEM or base64 text. */
function x5cEntry(value: string, index: number): Buffer[] {
  const field = `x5c[${index}]`;
  const bytes = Buffer.from(value, 'base64');
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(value) || bytes.length === 0) {
    throw new BadParameter(`${field} must hold a base64-encoded certificate.`);
  }
  return certificatesOfEntry(bytes, field);
}

/** GET /certificates: `includePending=true` adds the certificates whose first version is pending. */
function listCertificates(certificates: CertificateService) {
  return async (request: FastifyRequest, after: string | undefined, limit: number) => {
    const { includePending } = request.query as { includePending?: unknown };
    if (includePending !== undefined && includePending !== 'true' && includePending !== 'false')
      throw new BadParameter('includePending must be true or false.');
    const { baseUrl, vault } = request;
    const page =
      includePending === 'true'
        ? await certificates.listWithPending(vault, after, limit)
        : await certificates.list(vault, after, limit);
    return {
      next: page.next,
      items: page.items.map((item) =>
        'head' in item
          ? certificateItem(baseUrl, vault, item, false)
          : pendingCertificateItem(baseUrl, vault, item.name, item.operation),
      ),
    };
  };
}

/** The Certificates API of the Key Vault data plane (certificates.json), route by route. */
export function certificateRoutes(certificates: CertificateService): DataRoute[] {
  const withPolicy = async (request: FastifyRequest, view: CertificateView) =>
    certificateBundle(
      request.baseUrl,
      request.vault,
      view,
      await certificates.readPolicy(request.vault, view.head.name),
    );
  const deletedWithPolicy = async (request: FastifyRequest, view: DeletedCertificateView) =>
    deletedCertificateBundle(
      request.baseUrl,
      request.vault,
      view,
      await certificates.readPolicy(request.vault, view.head.name),
    );
  const operation = (request: FastifyRequest, result: Parameters<typeof operationBody>[2]) =>
    operationBody(request.baseUrl, objectName(request), result);
  const bundle = { response: { 200: schemas.bundle } };

  /** Latest or one version; a certificate whose first version is pending answers as pending. */
  const getCertificate = async (request: FastifyRequest) => {
    const name = objectName(request);
    const view = await certificates
      .resolve(request.vault, name, version(request))
      .catch(async (error: unknown) => {
        const pending = version(request) ? undefined : await certificates.findPending(request.vault, name);
        // Only a creation that never completed stands in for the certificate; a completed one
        // of a certificate since deleted must not.
        if (!pending || pending.status === 'completed') throw error;
        return pending;
      });
    if ('head' in view) return { body: await withPolicy(request, view) };
    const policy = await certificates.readPolicy(request.vault, name);
    return { body: pendingCertificateBundle(request.baseUrl, request.vault, name, view, policy) };
  };
  const updateCertificate = async (request: FastifyRequest) => {
    const body = request.body as AttributesBody & { policy?: PolicyBody | null };
    const view = await certificates.updateProperties(request.vault, objectName(request), version(request), {
      ...attributesFromWire(body),
      policy: given(body.policy) ? policyFromWire(body.policy) : undefined,
    });
    return { body: await withPolicy(request, view) };
  };
  const A = CertificateActions;

  return [
    route(
      'CertificateCreate',
      'POST',
      '/certificates/:name/create',
      A.create,
      { body: schemas.createBody, response: { 202: schemas.operation } },
      async (request) => {
        const body = (request.body ?? {}) as CreateBody;
        const result = await certificates.create(request.vault, objectName(request), {
          ...attributesFromWire(body),
          policy: policyFromWire(body.policy),
          preserveCertOrder: given(body.preserveCertOrder),
        });
        return { status: 202, body: operation(request, result) };
      },
    ),
    route(
      'CertificateImport',
      'POST',
      '/certificates/:name/import',
      A.import,
      { body: schemas.importBody, ...bundle },
      async (request) => {
        const body = request.body as ImportBody;
        const view = await certificates.importCertificate(request.vault, objectName(request), {
          ...attributesFromWire(body),
          value: body.value,
          password: given(body.pwd),
          policy: policyFromWire(body.policy),
          preserveCertOrder: given(body.preserveCertOrder),
        });
        return { body: await withPolicy(request, view) };
      },
    ),
    route('CertificateGet', 'GET', '/certificates/:name', A.read, bundle, getCertificate),
    route('CertificateGet', 'GET', '/certificates/:name/:version', A.read, bundle, getCertificate),
    route(
      'CertificateUpdate',
      'PATCH',
      '/certificates/:name',
      A.update,
      { body: schemas.updateBody, ...bundle },
      updateCertificate,
    ),
    route(
      'CertificateUpdate',
      'PATCH',
      '/certificates/:name/:version',
      A.update,
      { body: schemas.updateBody, ...bundle },
      updateCertificate,
    ),
    route(
      'CertificatePendingGet',
      'GET',
      '/certificates/:name/pending',
      A.read,
      { response: { 200: schemas.operation } },
      async (request) => ({
        body: operation(request, await certificates.getPending(request.vault, objectName(request))),
      }),
    ),
    route(
      'CertificatePendingUpdate',
      'PATCH',
      '/certificates/:name/pending',
      A.update,
      { body: schemas.operationUpdateBody, response: { 200: schemas.operation } },
      async (request) => {
        const { cancellation_requested: cancel } = request.body as { cancellation_requested: boolean };
        const result = cancel
          ? await certificates.cancelPending(request.vault, objectName(request))
          : await certificates.getPending(request.vault, objectName(request));
        return { body: operation(request, result) };
      },
    ),
    route(
      'CertificatePendingDelete',
      'DELETE',
      '/certificates/:name/pending',
      A.update,
      { response: { 200: schemas.operation } },
      async (request) => ({
        body: operation(request, await certificates.deletePending(request.vault, objectName(request))),
      }),
    ),
    route(
      'CertificatePendingMerge',
      'POST',
      '/certificates/:name/pending/merge',
      A.create,
      { body: schemas.mergeBody, response: { 201: schemas.bundle } },
      async (request) => {
        const body = request.body as MergeBody;
        const view = await certificates.merge(request.vault, objectName(request), {
          ...attributesFromWire(body),
          x5c: body.x5c.flatMap(x5cEntry),
        });
        return { status: 201, body: await withPolicy(request, view) };
      },
    ),
    route(
      'CertificatePolicyGet',
      'GET',
      '/certificates/:name/policy',
      A.read,
      { response: { 200: schemas.policy } },
      async (request) => ({
        body: policyToWire(
          request.baseUrl,
          objectName(request),
          await certificates.getPolicy(request.vault, objectName(request)),
        ),
      }),
    ),
    route(
      'CertificatePolicyUpdate',
      'PATCH',
      '/certificates/:name/policy',
      A.update,
      { body: schemas.createBody.properties.policy, response: { 200: schemas.policy } },
      async (request) => {
        const policy = await certificates.updatePolicy(
          request.vault,
          objectName(request),
          policyFromWire(request.body as PolicyBody),
        );
        return { body: policyToWire(request.baseUrl, objectName(request), policy) };
      },
    ),
    ...contactRoutes(certificates.contacts),
    ...issuerRoutes(certificates.issuers),
    ...lifecycleRoutes({
      collection: 'certificates',
      operationPrefix: 'Certificate',
      lifecycle: certificates,
      actions: A,
      bundle: withPolicy,
      deletedBundle: deletedWithPolicy,
      item: (request, view, withVersion) =>
        certificateItem(request.baseUrl, request.vault, view, withVersion),
      deletedItem: (request, view) => deletedCertificateItem(request.baseUrl, request.vault, view),
      list: listCertificates(certificates),
      schemas,
    }),
  ];
}
