import { ConfigValidationError, loadAppConfig } from './app-config';

const valid = {
  WEBAUTHN_RP_ID: 'airflow.example.com',
  WEBAUTHN_ORIGINS: 'https://airflow.example.com',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadAppConfig(valid);
    expect(config).toMatchObject({
      port: 3000,
      database: { type: 'better-sqlite3', database: './data/auth.sqlite' },
      jwt: {
        audience: 'airflow',
        userTokenTtlSeconds: 600,
        serviceTokenTtlSeconds: 900,
        issuer: 'http://127.0.0.1:3000',
        signingAlg: 'EdDSA',
      },
      adminGroups: ['airflow-admins'],
      webauthn: { userVerification: 'required', challengeTtlSeconds: 120, origins: ['https://airflow.example.com'] },
      enrollmentUrl: 'https://airflow.example.com/auth/enroll',
    });
  });

  it('selects PostgreSQL from a postgres:// DATABASE_URL', () => {
    expect(loadAppConfig({ ...valid, DATABASE_URL: 'postgres://u@db/auth' }).database).toEqual({
      type: 'postgres',
      url: 'postgres://u@db/auth',
    });
  });

  it('ships no key: a missing KEY_ENCRYPTION_KEY is an error that says how to make one', () => {
    expect(problemsOf({ ...valid, KEY_ENCRYPTION_KEY: undefined }).join('\n')).toMatch(
      /KEY_ENCRYPTION_KEY.*openssl rand -base64 32/,
    );
  });

  it('never echoes a bad secret back', () => {
    const problems = problemsOf({ ...valid, KEY_ENCRYPTION_KEY: 'c2hvcnQ=' });
    expect(problems.join('\n')).toMatch(/exactly 32 bytes/);
    expect(problems.join('\n')).not.toContain('c2hvcnQ=');
  });

  it('reports every bad value, one line each', () => {
    const problems = problemsOf({
      ...valid,
      PORT: 'eighty',
      WEBAUTHN_RP_ID: '10.0.0.1:8080',
      USER_TOKEN_TTL_SECONDS: '5',
      WEBAUTHN_ORIGINS: 'https://airflow.example.com/path',
    });
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(/[ :]/)[0])).toEqual(
      expect.arrayContaining(['PORT', 'WEBAUTHN_RP_ID', 'USER_TOKEN_TTL_SECONDS', 'WEBAUTHN_ORIGINS']),
    );
  });

  it('takes the enrollment page from ENROLLMENT_URL, only on a WebAuthn origin', () => {
    expect(
      loadAppConfig({ ...valid, ENROLLMENT_URL: 'https://airflow.example.com/airflow/auth/enroll/' }).enrollmentUrl,
    ).toBe('https://airflow.example.com/airflow/auth/enroll');
    expect(problemsOf({ ...valid, ENROLLMENT_URL: 'https://evil.example/auth/enroll' }).join()).toMatch(
      /ENROLLMENT_URL must be a page on one of WEBAUTHN_ORIGINS/,
    );
    expect(problemsOf({ ...valid, ENROLLMENT_URL: 'https://airflow.example.com/auth/enroll?invite=x' }).join()).toMatch(
      /without a query/,
    );
    expect(problemsOf({ ...valid, ENROLLMENT_URL: 'not a url' }).join()).toMatch(/ENROLLMENT_URL is not a URL/);
  });

  it('refuses an origin outside the RP ID', () => {
    expect(problemsOf({ ...valid, WEBAUTHN_ORIGINS: 'https://evil.example' }).join()).toMatch(/not on WEBAUTHN_RP_ID/);
  });

  it('refuses plain http for a non-localhost origin in production', () => {
    expect(problemsOf({ ...valid, WEBAUTHN_ORIGINS: 'http://airflow.example.com' }).join()).toMatch(/https/);
    expect(problemsOf({ ...valid, WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:8080' })).toEqual(
      [],
    );
  });

  it('turns the limits off only with RATE_LIMIT_PER_MINUTE=0, and never echoes a bad REDIS_URL (it may hold a password)', () => {
    expect(loadAppConfig(valid).limits).toMatchObject({
      enabled: true,
      addressPerMinute: 600,
      failedSecrets: 10,
      failureWindowSeconds: 900,
    });
    expect(loadAppConfig({ ...valid, RATE_LIMIT_PER_MINUTE: '0' }).limits.enabled).toBe(false);
    const problems = problemsOf({ ...valid, REDIS_URL: 'http://user:hunter2@cache' }).join('\n');
    expect(problems).toMatch(/REDIS_URL must be a redis/);
    expect(problems).not.toContain('hunter2');
  });

  it('namespaces the Redis keys with REDIS_KEY_PREFIX (awa:limits: by default) and refuses a prefix with spaces or braces', () => {
    expect(loadAppConfig({ ...valid, REDIS_URL: 'redis://cache:6379' }).limits).toMatchObject({
      redisUrl: 'redis://cache:6379',
      redisKeyPrefix: 'awa:limits:',
    });
    expect(loadAppConfig({ ...valid, REDIS_KEY_PREFIX: 'prod:awa:' }).limits.redisKeyPrefix).toBe('prod:awa:');
    expect(problemsOf({ ...valid, REDIS_KEY_PREFIX: 'a b' }).join()).toMatch(/REDIS_KEY_PREFIX/);
    expect(problemsOf({ ...valid, REDIS_KEY_PREFIX: '{slot}' }).join()).toMatch(/REDIS_KEY_PREFIX/);
  });
});

describe('OIDC configuration', () => {
  const provider = {
    OIDC_ISSUER: 'https://idp.example.com/',
    OIDC_CLIENT_ID: 'airflow',
    OIDC_CLIENT_SECRET: 'a-very-secret-value',
  };

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
      sidRetentionSeconds: 86400,
    });
  });

  it('refuses a sid retention shorter than ten minutes or longer than 31 days', () => {
    const provider = {
      OIDC_ISSUER: 'https://idp.example.com',
      OIDC_CLIENT_ID: 'airflow',
      OIDC_CLIENT_SECRET: 'a-very-secret-value',
    };
    expect(problemsOf({ ...valid, ...provider, OIDC_SID_RETENTION_SECONDS: '60' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/OIDC_SID_RETENTION_SECONDS/)]),
    );
    expect(problemsOf({ ...valid, ...provider, OIDC_SID_RETENTION_SECONDS: String(32 * 24 * 3600) })).toEqual(
      expect.arrayContaining([expect.stringMatching(/OIDC_SID_RETENTION_SECONDS/)]),
    );
    expect(
      loadAppConfig({ ...valid, ...provider, OIDC_SID_RETENTION_SECONDS: '28800' }).oidc!.sidRetentionSeconds,
    ).toBe(28800);
  });

  it('needs the client id and secret, and openid in the scopes', () => {
    const problems = problemsOf({ ...valid, OIDC_ISSUER: 'https://idp.example.com', OIDC_SCOPES: 'profile email' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^OIDC_CLIENT_ID/),
        expect.stringMatching(/^OIDC_CLIENT_SECRET/),
        'OIDC_SCOPES must include openid',
      ]),
    );
  });

  it('refuses client settings without an issuer (a half-configured provider is a mistake, not "off")', () => {
    expect(problemsOf({ ...valid, OIDC_CLIENT_ID: 'airflow' })).toEqual([
      expect.stringMatching(/^OIDC_CLIENT_ID is set but OIDC_ISSUER is not/),
    ]);
  });

  it('allows plain http only for a loopback issuer with OIDC_ALLOW_HTTP=true', () => {
    expect(problemsOf({ ...valid, ...provider, OIDC_ISSUER: 'http://127.0.0.1:9000' })).toEqual([
      expect.stringMatching(/OIDC_ISSUER must use https/),
    ]);
    expect(
      problemsOf({ ...valid, ...provider, OIDC_ISSUER: 'http://idp.example.com', OIDC_ALLOW_HTTP: 'true' }),
    ).toEqual([expect.stringMatching(/OIDC_ISSUER must use https/)]);
    expect(
      problemsOf({ ...valid, ...provider, OIDC_ISSUER: 'http://127.0.0.1:9000', OIDC_ALLOW_HTTP: 'true' }),
    ).toEqual([]);
    expect(problemsOf({ ...valid, ...provider, OIDC_ALLOW_HTTP: 'yes' })).toEqual([
      expect.stringMatching(/^OIDC_ALLOW_HTTP/),
    ]);
  });

  it("keeps the redirect URI on Airflow's origin", () => {
    expect(
      problemsOf({ ...valid, ...provider, OIDC_REDIRECT_URI: 'https://evil.example.net/auth/oidc/callback' }),
    ).toEqual([expect.stringMatching(/^OIDC_REDIRECT_URI must be a page on one of WEBAUTHN_ORIGINS/)]);
  });

  it('splits the group lists', () => {
    const oidc = loadAppConfig({
      ...valid,
      ...provider,
      OIDC_ALLOWED_GROUPS: 'eng, ops',
      FEDERATION_PASSKEY_REQUIRED_GROUPS: 'ops',
    }).oidc!;
    expect(oidc.allowedGroups).toEqual(['eng', 'ops']);
    expect(oidc.passkeyRequiredGroups).toEqual(['ops']);
  });

  it('reads every group list by the group-name rule: trimmed and NFC, a name it refuses a start-up problem', () => {
    const groups = { ADMIN_GROUPS: ' airflow-admins\t', FEDERATION_PASSKEY_REQUIRED_GROUPS: 'équipe'.normalize('NFD') };
    const config = loadAppConfig({ ...valid, ...provider, ...groups });
    expect(config.adminGroups).toEqual(['airflow-admins']);
    expect(config.oidc!.passkeyRequiredGroups).toEqual(['équipe'.normalize('NFC')]);
    const refused = { ADMIN_GROUPS: 'airflow admins', OIDC_ALLOWED_GROUPS: 'ops\u0007' };
    expect(problemsOf({ ...valid, ...provider, ...refused })).toEqual([
      expect.stringMatching(/^ADMIN_GROUPS: "airflow admins" is not a group name/),
      expect.stringMatching(/^OIDC_ALLOWED_GROUPS: .* is not a group name/),
    ]);
  });

  it('never echoes the client secret', () => {
    const problems = problemsOf({ ...valid, ...provider, OIDC_CLIENT_SECRET: 'a-very-secret-value', PORT: 'x' });
    expect(problems.join('\n')).not.toContain('a-very-secret-value');
  });
});
