import { type KeyClass, keyCreateCost, keyOperationCost, type RequestCost } from './vault-throttle.js';

/** The parts of a data-plane request its cost depends on. */
export interface CostedRequest {
  method: string;
  /** The route's pattern, as registered: `/keys/:name/:version/sign`. */
  route: string;
  params: Record<string, string | undefined>;
  body: unknown;
}

const KEY_OPERATION = /^\/keys\/:name(?:\/:version)?\/(sign|verify|encrypt|decrypt|wrapkey|unwrapkey)$/;
const CREATES = new Set(['PUT /secrets/:name', 'PUT /keys/:name', 'POST /certificates/:name/import']);

const isHsmType = (kty: unknown) => typeof kty === 'string' && kty.toUpperCase().endsWith('-HSM');

/**
 * What a request costs under Azure's limits: secret create, key import and certificate import
 * spend the 300 creates; key creation and key operations are weighted by the key (an RSA-4096
 * operation costs 8 units where an RSA-2048 or EC one costs 1); everything else costs 1 unit.
 * `keyClassOf` looks the key up only for key operations (the body does not say what key it is).
 */
export async function requestCost(
  request: CostedRequest,
  keyClassOf: (name: string, version: string | undefined) => Promise<KeyClass | undefined>,
): Promise<RequestCost> {
  const signature = `${request.method} ${request.route}`;
  if (CREATES.has(signature)) return { creates: 1, units: 1 };
  if (signature === 'POST /keys/:name/create' || signature === 'POST /certificates/:name/create') {
    const body = (request.body ?? {}) as { kty?: unknown; policy?: { key_props?: { kty?: unknown } } };
    return { creates: 0, units: keyCreateCost(isHsmType(body.kty ?? body.policy?.key_props?.kty)) };
  }
  if (request.method === 'POST' && KEY_OPERATION.test(request.route)) {
    const key = await keyClassOf(request.params['name'] ?? '', request.params['version'] || undefined);
    return { creates: 0, units: key ? keyOperationCost(key) : 1 };
  }
  return { creates: 0, units: 1 };
}

export { isHsmType };
