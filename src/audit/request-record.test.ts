import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical.js';
import { CLAIMS } from './record.js';
import { type RequestFacts, requestRecord } from './request-record.js';

/** Allowed by a Key Vault Secrets User assignment at `scope`. */
const roleDecision = (scope: string): RequestFacts['decision'] => ({
  allowed: true,
  reason: '',
  model: 'rbac',
  grantedBy: {
    kind: 'role',
    assignmentId: 'as-1',
    roleDefinitionId: 'rd-1',
    roleName: 'Key Vault Secrets User',
    scope,
  },
});

const facts = (extra: Partial<RequestFacts> = {}): RequestFacts => ({
  startedAtMs: Date.parse('2026-11-20T08:00:00.000Z'),
  durationMs: 4.4,
  operation: 'SecretGet',
  baseUrl: 'https://dev.vault.localhost:8443',
  path: '/secrets/Payroll-Key/0123',
  apiVersion: '7.6',
  status: 200,
  vault: 'dev',
  scope: '/vaults/dev/secrets/payroll-key',
  callerIp: '10.1.2.3',
  userAgent: 'azsdk-js-keyvault-secrets/4.11.2',
  clientRequestId: '3c9f4c4e-1111-2222-3333-444455556666',
  identity: { objectId: 'oid-1', appId: 'app-1', tenantId: 'tenant-1' },
  decision: roleDecision('/vaults/dev'),
  addressAuthorized: true,
  ...extra,
});
const context = {
  objectName: (name: string) => name,
  vaultUrl: (vault: string) => `https://${vault}.vault.localhost:8443`,
  newCorrelationId: () => 'generated',
};

describe('request records', () => {
  it("fill Azure's AuditEvent fields", () => {
    const record = requestRecord(facts(), context);
    assert.equal(record.time, '2026-11-20T08:00:00.000Z');
    assert.equal(record.resourceId, '/vaults/dev');
    assert.equal(record.operationName, 'SecretGet');
    assert.equal(record.operationVersion, '7.6');
    assert.equal(record.category, 'AuditEvent');
    assert.deepEqual([record.resultType, record.resultSignature, record.durationMs], ['Success', 'OK', 4]);
    assert.equal(record.correlationId, '3c9f4c4e-1111-2222-3333-444455556666');
    assert.deepEqual(record.identity.claim, {
      [CLAIMS.objectId]: 'oid-1',
      [CLAIMS.appId]: 'app-1',
      [CLAIMS.tenantId]: 'tenant-1',
    });
    assert.deepEqual(record.properties, {
      id: 'https://dev.vault.localhost:8443/secrets/payroll-key',
      requestUri: 'https://dev.vault.localhost:8443/secrets/Payroll-Key/0123?api-version=7.6',
      httpStatusCode: 200,
      clientInfo: 'azsdk-js-keyvault-secrets/4.11.2',
      isAddressAuthorized: true,
      isRbacAuthorized: true,
      appliedAssignmentId: 'as-1',
      appliedRoleDefinitionId: 'rd-1',
      appliedRoleName: 'Key Vault Secrets User',
      appliedScope: '/vaults/dev',
    });
  });

  it('show a protected name only as its HMAC: in the id, the request URI and the error', () => {
    const record = requestRecord(
      facts({
        status: 404,
        error: {
          code: 'SecretNotFound',
          message: 'A secret with (name/id) Payroll-Key was not found in this key vault.',
        },
        // A role assigned on the object itself: its scope names the object too.
        decision: roleDecision('/vaults/dev/secrets/payroll-key'),
      }),
      { ...context, objectName: () => 'hmac:abc' },
    );
    const text = JSON.stringify(record);
    assert.doesNotMatch(text, /payroll/i);
    assert.equal(record.properties.id, 'https://dev.vault.localhost:8443/secrets/hmac:abc');
    assert.equal(
      record.properties.requestUri,
      'https://dev.vault.localhost:8443/secrets/hmac:abc/0123?api-version=7.6',
    );
    assert.equal(
      record.resultDescription,
      'SecretNotFound: A secret with (name/id) hmac:abc was not found in this key vault.',
    );
    assert.deepEqual([record.resultType, record.resultSignature], ['Failure', 'Not Found']);
    assert.equal(record.properties.appliedScope, '/vaults/dev/secrets/hmac:abc');
  });

  it('record access-policy and administrator decisions, and refusals', () => {
    const policy = requestRecord(
      facts({
        decision: {
          allowed: true,
          reason: '',
          model: 'accessPolicy',
          grantedBy: { kind: 'accessPolicy', objectId: 'group-1' },
        },
      }),
      context,
    );
    assert.equal(policy.properties.isAccessPolicyMatch, true);
    assert.equal(policy.properties.appliedAccessPolicyObjectId, 'group-1');
    assert.equal(policy.properties.isRbacAuthorized, undefined);
    const denied = requestRecord(
      facts({ status: 403, decision: { allowed: false, reason: '', model: 'rbac' } }),
      context,
    );
    assert.equal(denied.properties.isRbacAuthorized, false);
    const admin = requestRecord(
      facts({
        scope: '/',
        vault: undefined,
        decision: { allowed: true, reason: '', model: 'rbac', grantedBy: { kind: 'administrator' } },
      }),
      context,
    );
    assert.equal(admin.properties.isInstallationAdministrator, true);
    assert.equal(admin.resourceId, '/');
    assert.equal(
      requestRecord(facts({ status: 403, addressAuthorized: false, decision: undefined }), context).properties
        .isAddressAuthorized,
      false,
    );
  });

  it('generate a correlation id for a missing or odd client request id, and hold no control characters', () => {
    const record = requestRecord(
      facts({ clientRequestId: 'a b\nc', userAgent: 'evil\r\nInjected: yes' }),
      context,
    );
    assert.equal(record.correlationId, 'generated');
    assert.equal(record.properties.clientInfo, 'evil  Injected: yes');
  });

  it('show a protected name as its HMAC also in a path no route matched', () => {
    const record = requestRecord(
      facts({
        operation: 'UnknownOperation',
        path: '/secrets/Payroll-Key/extra/segments',
        scope: undefined,
        status: 404,
        error: {
          code: 'NotFound',
          message: 'There is no operation at GET /secrets/Payroll-Key/extra/segments.',
        },
        decision: undefined,
      }),
      { ...context, objectName: () => 'hmac:abc' },
    );
    assert.doesNotMatch(JSON.stringify(record), /payroll/i);
    assert.equal(
      record.properties.requestUri,
      'https://dev.vault.localhost:8443/secrets/hmac:abc/extra/segments?api-version=7.6',
    );
  });

  it('are built with their members in canonical order, so the native serializer writes them canonically', () => {
    const accessPolicy: RequestFacts['decision'] = {
      allowed: true,
      reason: '',
      model: 'accessPolicy',
      grantedBy: { kind: 'accessPolicy', objectId: 'g' },
    };
    for (const extra of [
      {},
      { decision: accessPolicy, identity: { upn: 'a@b', objectId: 'o', appId: 'x', tenantId: 't' } },
    ]) {
      const record = requestRecord(facts(extra), context);
      assert.equal(JSON.stringify(record.properties), canonicalJson(record.properties));
      assert.equal(JSON.stringify(record.identity), canonicalJson(record.identity));
    }
  });
});
