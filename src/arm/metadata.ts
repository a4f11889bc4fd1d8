import { BadParameter } from '../errors/index.js';

/**
 * `GET /metadata/endpoints`: where a client that is given only Resource Manager's URL finds the
 * rest of the cloud (login endpoint, token audiences, Key Vault's DNS suffix). Public and static,
 * as Azure's is; nothing in it is secret. Services Coffer does not run are empty strings, except
 * Microsoft Graph's identifiers, which clients require to be present (Coffer refuses tokens for them).
 */
export interface CloudFacts {
  /** The cloud's name as clients show it. */
  name: string;
  /** Coffer's own URL (`https://localhost:8443`): login endpoint and Resource Manager at once. */
  url: string;
  /** Vaults are `{name}.{keyVaultDns}`. */
  keyVaultDns: string;
}

type Shape = 'legacy' | 'legacy-2018' | 'cloud-list' | 'cloud';

/** The api-versions clients send, the shape each answers with, and who sends it. */
export const METADATA_API_VERSIONS: ReadonlyArray<{ version: string; shape: Shape; seenIn: string }> = [
  { version: '1.0', shape: 'legacy', seenIn: 'go-azure-sdk sdk/internal/metadata client_test.go' },
  {
    version: '2015-01-01',
    shape: 'legacy',
    seenIn: 'az cloud register --endpoint-resource-manager (azure-cli command_modules/cloud/custom.py)',
  },
  {
    version: '2018-01-01',
    shape: 'legacy-2018',
    seenIn: 'go-azure-sdk sdk/internal/metadata client_test.go',
  },
  { version: '2019-05-01', shape: 'cloud-list', seenIn: "az's ARM_CLOUD_METADATA_URL (a list of clouds)" },
  {
    version: '2022-09-01',
    shape: 'cloud',
    seenIn: 'go-azure-sdk environments.FromEndpoint: terraform-provider-azurerm metadata_host',
  },
];

const GRAPH = 'https://graph.windows.net/';
const MICROSOFT_GRAPH = 'https://graph.microsoft.com/';
/** Resource Manager's well-known audience, which Terraform asks tokens for whatever the endpoint. */
export const ARM_AUDIENCE = 'https://management.azure.com';

export function cloudMetadata(query: Record<string, unknown>, facts: CloudFacts): unknown {
  const version = query['api-version'];
  const entry = METADATA_API_VERSIONS.find((candidate) => candidate.version === version);
  if (!entry) {
    const known = METADATA_API_VERSIONS.map((candidate) => candidate.version).join(', ');
    throw new BadParameter(
      `The api-version '${String(version ?? '').slice(0, 40)}' is not supported for /metadata/endpoints. Supported versions: ${known}.`,
      typeof version === 'string' ? 'InvalidApiVersionParameter' : 'MissingApiVersionParameter',
    );
  }
  const audiences = [`${facts.url}/`, `${ARM_AUDIENCE}/`];
  if (entry.shape === 'legacy' || entry.shape === 'legacy-2018') {
    const legacy = {
      galleryEndpoint: '',
      graphEndpoint: GRAPH,
      portalEndpoint: '',
      authentication: { loginEndpoint: `${facts.url}/`, audiences },
    };
    if (entry.shape === 'legacy') return legacy;
    return {
      ...legacy,
      graphAudience: GRAPH,
      authentication: { ...legacy.authentication, tenant: 'common', identityProvider: 'AAD' },
    };
  }
  const cloud = cloudDocument(facts, audiences);
  return entry.shape === 'cloud' ? cloud : [{ ...cloud, gallery: '' }];
}

function cloudDocument(facts: CloudFacts, audiences: string[]) {
  return {
    portal: '',
    authentication: { loginEndpoint: facts.url, audiences, tenant: 'common', identityProvider: 'AAD' },
    media: '',
    graphAudience: GRAPH,
    graph: GRAPH,
    name: facts.name,
    suffixes: {
      azureDataLakeStoreFileSystem: '',
      acrLoginServer: '',
      sqlServerHostname: '',
      azureDataLakeAnalyticsCatalogAndJob: '',
      keyVaultDns: facts.keyVaultDns,
      storage: '',
      azureFrontDoorEndpointSuffix: '',
    },
    batch: '',
    resourceManager: `${facts.url}/`,
    vmImageAliasDoc: '',
    activeDirectoryDataLake: '',
    sqlManagement: '',
    microsoftGraphResourceId: MICROSOFT_GRAPH,
  };
}
