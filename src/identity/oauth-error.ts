/** An OAuth2 error from the token endpoint: `{error, error_description}`, as Entra ID answers. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}
