import { STATUS_CODES } from 'node:http';
import type { Decision } from '../policy/authorize.js';
import { type AuditEventBody, type AuditProperties, CLAIMS } from './record.js';

/** What the HTTP layer knows about a finished request: everything a record is made from. */
export interface RequestFacts {
  startedAtMs: number;
  durationMs: number;
  /** Azure's operationName, from the route (`UnknownOperation` when no route matched). */
  operation: string;
  /** `https://{host}` as the client addressed the server. */
  baseUrl: string;
  /** The path as sent, without the query string. */
  path: string;
  apiVersion: string | undefined;
  status: number;
  /** The error the client was answered with, from its body. */
  error?: { code: string; message: string };
  /** The vault addressed (by host, or by the scope of an admin call). */
  vault?: string;
  /** The authorization scope, when the request got that far (`/vaults/v/secrets/name`). */
  scope?: string;
  callerIp: string;
  userAgent: string | undefined;
  clientRequestId: string | undefined;
  /** The x-ms-request-id the server answered with. */
  requestId?: string;
  identity: { objectId?: string; appId?: string; upn?: string; tenantId?: string };
  decision?: Decision;
  /** False when the vault's firewall refused the caller; true once it let it through. */
  addressAuthorized?: boolean;
}

export interface RecordContext {
  /** An object's name as records show it: the name, or its HMAC when names are protected. */
  objectName: (name: string) => string;
  vaultUrl: (vault: string) => string;
  newCorrelationId: () => string;
}

const OBJECT_KINDS = new Set(['secrets', 'keys', 'certificates']);
const CORRELATION_ID = /^[A-Za-z0-9._:{}-]{1,128}$/;

/** An Azure `AuditEvent` for one request. Holds no body, header value or query string but api-version. */
export function requestRecord(facts: RequestFacts, context: RecordContext): AuditEventBody {
  const object = objectOf(facts.scope);
  const vault = facts.vault ?? vaultOf(facts.scope);
  // A path no route matched may still name an object (`/secrets/{name}/...`): shown the same way.
  const name = object?.name ?? nameInPath(facts.path);
  const shownName = name === undefined ? undefined : context.objectName(name);
  const failed = facts.status >= 400;
  return {
    time: new Date(facts.startedAtMs).toISOString(),
    resourceId: vault ? `/vaults/${vault}` : '/',
    operationName: facts.operation,
    operationVersion: bounded(facts.apiVersion ?? '', 32),
    category: 'AuditEvent',
    resultType: failed ? 'Failure' : 'Success',
    resultSignature: STATUS_CODES[facts.status] ?? String(facts.status),
    resultDescription: facts.error
      ? bounded(hideName(`${facts.error.code}: ${facts.error.message}`, name, shownName), 500)
      : '',
    durationMs: Math.max(0, Math.round(facts.durationMs)),
    callerIpAddress: facts.callerIp,
    correlationId:
      facts.clientRequestId && CORRELATION_ID.test(facts.clientRequestId)
        ? facts.clientRequestId
        : context.newCorrelationId(),
    identity: { claim: claims(facts.identity) },
    properties: properties(facts, context, {
      id: object
        ? `${context.vaultUrl(object.vault)}/${object.kind}/${shownName}`
        : vault
          ? `${context.vaultUrl(vault)}/`
          : undefined,
      requestUri:
        facts.baseUrl +
        shownPath(facts.path, name, shownName) +
        (facts.apiVersion ? `?api-version=${encodeURIComponent(bounded(facts.apiVersion, 32))}` : ''),
    }),
  };
}

/** The vault, kind and name of an object scope (`/vaults/{vault}/{kind}/{name}`). */
function objectOf(scope: string | undefined): { vault: string; kind: string; name: string } | undefined {
  const parts = scope?.split('/');
  if (!parts || parts.length !== 5 || parts[1] !== 'vaults' || !OBJECT_KINDS.has(parts[3]!)) return undefined;
  return { vault: parts[2]!, kind: parts[3]!, name: parts[4]! };
}

/** A role assignment's scope, with an object's name shown as records show names. */
function shownScope(scope: string, context: RecordContext): string {
  const object = objectOf(scope);
  return object ? `/vaults/${object.vault}/${object.kind}/${context.objectName(object.name)}` : scope;
}

const COLLECTIONS = new Set([
  'secrets',
  'keys',
  'certificates',
  'deletedsecrets',
  'deletedkeys',
  'deletedcertificates',
]);
/** Segments after a collection that are operations on it, not object names. */
const NOT_NAMES = new Set(['restore', 'contacts', 'issuers']);

/** The object name a path gives after its collection segment, lower case, if any. */
function nameInPath(path: string): string | undefined {
  const [, collection, segment] = path.split('/');
  if (!collection || !segment || !COLLECTIONS.has(collection.toLowerCase())) return undefined;
  const name = decoded(segment);
  return NOT_NAMES.has(name) ? undefined : name;
}

function vaultOf(scope: string | undefined): string | undefined {
  const parts = scope?.split('/');
  return parts && parts[1] === 'vaults' && parts[2] ? parts[2] : undefined;
}

/**
 * The claims, members added in canonical order (appid, then the two schemas.microsoft.com
 * claims, then schemas.xmlsoap.org's upn): records built in order serialise natively (canonical.ts).
 */
function claims(identity: RequestFacts['identity']): Record<string, string> {
  const claim: Record<string, string> = {};
  if (identity.appId) claim[CLAIMS.appId] = bounded(identity.appId, 128);
  if (identity.objectId) claim[CLAIMS.objectId] = identity.objectId;
  if (identity.tenantId) claim[CLAIMS.tenantId] = identity.tenantId;
  if (identity.upn) claim[CLAIMS.upn] = bounded(identity.upn, 256);
  return claim;
}

/** The properties, members added in canonical (alphabetical) order and only when defined. */
function properties(
  facts: RequestFacts,
  context: RecordContext,
  where: { id: string | undefined; requestUri: string },
): AuditProperties {
  const out = {} as AuditProperties;
  const decision = facts.decision;
  const basis = decision?.grantedBy;
  if (basis?.kind === 'accessPolicy') out.appliedAccessPolicyObjectId = basis.objectId;
  if (basis?.kind === 'role') {
    out.appliedAssignmentId = basis.assignmentId;
    out.appliedRoleDefinitionId = basis.roleDefinitionId;
    out.appliedRoleName = basis.roleName;
    out.appliedScope = shownScope(basis.scope, context);
  }
  out.clientInfo = bounded(facts.userAgent ?? '', 256);
  out.httpStatusCode = facts.status;
  if (where.id !== undefined) out.id = where.id;
  if (decision?.model === 'accessPolicy') out.isAccessPolicyMatch = decision.allowed;
  if (facts.addressAuthorized !== undefined) out.isAddressAuthorized = facts.addressAuthorized;
  if (basis?.kind === 'administrator') out.isInstallationAdministrator = true;
  if (decision && decision.model !== 'accessPolicy') out.isRbacAuthorized = decision.allowed;
  if (facts.requestId) out.requestId = facts.requestId;
  out.requestUri = where.requestUri;
  return out;
}

/** The path with the object's name (the segment after the collection) shown as records show names. */
function shownPath(path: string, name: string | undefined, shown: string | undefined): string {
  const segments = path.split('/');
  if (
    name !== undefined &&
    shown !== undefined &&
    shown !== name &&
    segments.length > 2 &&
    decoded(segments[2]!) === name
  )
    segments[2] = shown;
  return bounded(segments.join('/'), 2048);
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment).toLowerCase();
  } catch {
    return segment.toLowerCase();
  }
}

/** Error messages may quote the object's name: they get the name as records show it. */
function hideName(text: string, name: string | undefined, shown: string | undefined): string {
  if (name === undefined || shown === undefined || shown === name) return text;
  return text.replace(new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), shown);
}

/** Printable text of bounded length: records hold no control characters. */
function bounded(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, max);
}
