import { readJson, type SecureStore, writeJson } from '../barrier/secure-store.js';

const TENANT_PATH = 'tenant';

export interface Tenant {
  tenantId: string;
  createdAt: string;
}

export const saveTenant = (store: SecureStore, tenant: Tenant) => writeJson(store, TENANT_PATH, tenant);
export const loadTenant = (store: SecureStore) => readJson<Tenant>(store, TENANT_PATH);
