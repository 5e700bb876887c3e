import { ConfigValidationError, loadAppConfig } from './app-config';

const valid = {
  WEBAUTHN_RP_ID: 'airflow.example.com',
  WEBAUTHN_ORIGINS: 'https://airflow.example.com',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const provider = { OIDC_ISSUER: 'https://idp.example.com/', OIDC_CLIENT_ID: 'airflow', OIDC_CLIENT_SECRET: 'a-very-secret-value' };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('OIDC configuration', () => {
  it('is off without OIDC_ISSUER', () => {
    expect(loadAppConfig(valid).oidc).toBeUndefined();
  });

  it('applies the documented defaults', () => {
    expect(loadAppConfig({ ...valid, ...provider }).oidc).toEqual({
      issuer: 'https://idp.example.com/',
      clientId: 'airflow',
      clientSecret: 'a-very-secret-value',
      displayName: 'your identity provider',
      scopes: ['openid', 'profile', 'email'],
      usernameClaim: 'preferred_username',
      groupsClaim: 'groups',
      allowedGroups: null,
      redirectUri: 'https://airflow.example.com/auth/oidc/callback',
      allowHttp: false,
      passkeyRequiredGroups: ['*'],
      flowTtlSeconds: 600,
    });
  });

  it('needs the client id and secret, and openid in the scopes', () => {
    const problems = problemsOf({ ...valid, OIDC_ISSUER: 'https://idp.example.com', OIDC_SCOPES: 'profile email' });
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^OIDC_CLIENT_ID/), expect.stringMatching(/^OIDC_CLIENT_SECRET/), 'OIDC_SCOPES must include openid']));
  });

  it('refuses client settings without an issuer (a half-configured provider is a mistake, not "off")', () => {
    expect(problemsOf({ ...valid, OIDC_CLIENT_ID: 'airflow' })).toEqual([expect.stringMatching(/^OIDC_CLIENT_ID is set but OIDC_ISSUER is not/)]);
  });

  it('allows plain http only for a loopback issuer with OIDC_ALLOW_HTTP=true', () => {
    expect(problemsOf({ ...valid, ...provider, OIDC_ISSUER: 'http://127.0.0.1:9000' })).toEqual([expect.stringMatching(/OIDC_ISSUER must use https/)]);
    expect(problemsOf({ ...valid, ...provider, OIDC_ISSUER: 'http://idp.example.com', OIDC_ALLOW_HTTP: 'true' })).toEqual([expect.stringMatching(/OIDC_ISSUER must use https/)]);
    expect(problemsOf({ ...valid, ...provider, OIDC_ISSUER: 'http://127.0.0.1:9000', OIDC_ALLOW_HTTP: 'true' })).toEqual([]);
    expect(problemsOf({ ...valid, ...provider, OIDC_ALLOW_HTTP: 'yes' })).toEqual([expect.stringMatching(/^OIDC_ALLOW_HTTP/)]);
  });

  it('keeps the redirect URI on Airflow\'s origin', () => {
    expect(problemsOf({ ...valid, ...provider, OIDC_REDIRECT_URI: 'https://evil.example.net/auth/oidc/callback' })).toEqual([expect.stringMatching(/^OIDC_REDIRECT_URI must be a page on one of WEBAUTHN_ORIGINS/)]);
  });

  it('splits the group lists', () => {
    const oidc = loadAppConfig({ ...valid, ...provider, OIDC_ALLOWED_GROUPS: 'eng, ops', FEDERATION_PASSKEY_REQUIRED_GROUPS: 'ops' }).oidc!;
    expect(oidc.allowedGroups).toEqual(['eng', 'ops']);
    expect(oidc.passkeyRequiredGroups).toEqual(['ops']);
  });

  it('never echoes the client secret', () => {
    const problems = problemsOf({ ...valid, ...provider, OIDC_CLIENT_SECRET: 'a-very-secret-value', PORT: 'x' });
    expect(problems.join('\n')).not.toContain('a-very-secret-value');
  });
});
