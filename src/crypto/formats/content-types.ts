/** The two forms a certificate's secret takes, as Key Vault names them in `contentType`. */
export const PKCS12_CONTENT_TYPE = 'application/x-pkcs12';
export const PEM_CONTENT_TYPE = 'application/x-pem-file';
export type SecretContentType = typeof PKCS12_CONTENT_TYPE | typeof PEM_CONTENT_TYPE;
