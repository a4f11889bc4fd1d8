import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * A client's own request id is echoed only when it is a plain token: Azure SDKs send a UUID,
 * and anything longer or stranger would only be a way to make Coffer repeat arbitrary text.
 */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9{}()._:-]{1,128}$/;

/**
 * `x-ms-request-id` on every response, errors included: a fresh UUID that support tooling, SDK
 * logs and Coffer's own records (`request.requestId`, the audit log's correlationId) share; and
 * `x-ms-client-request-id` echoed when the client sent one, as Azure does.
 */
export function registerRequestIds(app: FastifyInstance): void {
  app.decorateRequest('requestId', '');
  app.addHook('onRequest', async (request, reply) => stampRequestId(request, reply));
}

/** Also called for errors Fastify answers before routing, where no hook runs (a malformed URL). */
export function stampRequestId(request: FastifyRequest, reply: FastifyReply): void {
  request.requestId = randomUUID();
  reply.header('x-ms-request-id', request.requestId);
  const clientRequestId = request.headers['x-ms-client-request-id'];
  if (typeof clientRequestId === 'string' && CLIENT_REQUEST_ID.test(clientRequestId))
    reply.header('x-ms-client-request-id', clientRequestId);
}

export interface DataPlaneHeaderSettings {
  /** Coffer's release, where Key Vault reports its service build. */
  serviceVersion: string;
  region: string;
  /** The caller's address as network rules see it (the peer, or X-Forwarded-For from a trusted proxy). */
  clientAddress: (request: FastifyRequest) => string;
}

/**
 * The headers Key Vault adds to data-plane responses, 401 challenges included (so this hook runs
 * before authentication): its service version, its region, and what it saw of the connection.
 */
export function addDataPlaneHeaders(scope: FastifyInstance, settings: DataPlaneHeaderSettings): void {
  scope.addHook('onRequest', async (request, reply) => {
    reply.header('x-ms-keyvault-service-version', settings.serviceVersion);
    reply.header('x-ms-keyvault-region', settings.region);
    reply.header('x-ms-keyvault-network-info', networkInfo(settings.clientAddress(request)));
  });
}

/** `conn_type=Ipv4;addr=203.0.113.7;act_addr_fam=InterNetwork;`, as Key Vault writes it. */
export function networkInfo(address: string): string {
  return isIP(address) === 6
    ? `conn_type=Ipv6;addr=${address};act_addr_fam=InterNetworkV6;`
    : `conn_type=Ipv4;addr=${address};act_addr_fam=InterNetwork;`;
}
