import './loopback-dns.js';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';

// A workload as Azure runs one: it knows its vault and nothing about credentials. The test starts
// it with an environment holding only IDENTITY_ENDPOINT, IDENTITY_HEADER and NODE_EXTRA_CA_CERTS
// (this file's loopback DNS shim aside), so DefaultAzureCredential can only find `coffer agent`.

const [vaultUrl = '', name = ''] = process.argv.slice(2);
const secrets = new SecretClient(vaultUrl, new DefaultAzureCredential(), { retryOptions: { maxRetries: 0 } });
const secret = await secrets.getSecret(name);
process.stdout.write(
  `${JSON.stringify({ value: secret.value, environment: Object.keys(process.env).sort() })}\n`,
);
