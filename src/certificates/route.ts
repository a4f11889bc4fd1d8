import type { FastifyRequest } from 'fastify';
import { type DataRoute, vaultScope } from '../http/data-plane.js';
import { objectName } from '../objects/routes.js';

export const certificateScope = (request: FastifyRequest) =>
  vaultScope(request, 'certificates', objectName(request));
export const vaultWide = (request: FastifyRequest) => vaultScope(request);

/** One data-plane route of the Certificates API; the scope is the certificate unless given. */
export const route = (
  operation: string,
  method: DataRoute['method'],
  url: string,
  action: DataRoute['action'],
  schema: DataRoute['schema'],
  handler: DataRoute['handler'],
  scope: DataRoute['scope'] = certificateScope,
): DataRoute => ({ operation, method, url, action, scope, schema, handler });
