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
      jwt: { audience: 'airflow', userTokenTtlSeconds: 600, serviceTokenTtlSeconds: 900, issuer: 'http://127.0.0.1:3000', signingAlg: 'EdDSA' },
      adminGroups: ['airflow-admins'],
      webauthn: { userVerification: 'required', challengeTtlSeconds: 120, origins: ['https://airflow.example.com'] },
      enrollmentUrl: 'https://airflow.example.com/auth/enroll',
    });
  });

  it('selects PostgreSQL from a postgres:// DATABASE_URL', () => {
    expect(loadAppConfig({ ...valid, DATABASE_URL: 'postgres://u@db/auth' }).database).toEqual({ type: 'postgres', url: 'postgres://u@db/auth' });
  });

  it('ships no key: a missing KEY_ENCRYPTION_KEY is an error that says how to make one', () => {
    expect(problemsOf({ ...valid, KEY_ENCRYPTION_KEY: undefined }).join('\n')).toMatch(/KEY_ENCRYPTION_KEY.*openssl rand -base64 32/);
  });

  it('never echoes a bad secret back', () => {
    const problems = problemsOf({ ...valid, KEY_ENCRYPTION_KEY: 'c2hvcnQ=' });
    expect(problems.join('\n')).toMatch(/exactly 32 bytes/);
    expect(problems.join('\n')).not.toContain('c2hvcnQ=');
  });

  it('reports every bad value, one line each', () => {
    const problems = problemsOf({ ...valid, PORT: 'eighty', WEBAUTHN_RP_ID: '10.0.0.1:8080', USER_TOKEN_TTL_SECONDS: '5', WEBAUTHN_ORIGINS: 'https://airflow.example.com/path' });
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(/[ :]/)[0])).toEqual(expect.arrayContaining(['PORT', 'WEBAUTHN_RP_ID', 'USER_TOKEN_TTL_SECONDS', 'WEBAUTHN_ORIGINS']));
  });

  it('takes the enrollment page from ENROLLMENT_URL, only on a WebAuthn origin', () => {
    expect(loadAppConfig({ ...valid, ENROLLMENT_URL: 'https://airflow.example.com/airflow/auth/enroll/' }).enrollmentUrl).toBe('https://airflow.example.com/airflow/auth/enroll');
    expect(problemsOf({ ...valid, ENROLLMENT_URL: 'https://evil.example/auth/enroll' }).join()).toMatch(/ENROLLMENT_URL must be a page on one of WEBAUTHN_ORIGINS/);
    expect(problemsOf({ ...valid, ENROLLMENT_URL: 'https://airflow.example.com/auth/enroll?invite=x' }).join()).toMatch(/without a query/);
    expect(problemsOf({ ...valid, ENROLLMENT_URL: 'not a url' }).join()).toMatch(/ENROLLMENT_URL is not a URL/);
  });

  it('refuses an origin outside the RP ID', () => {
    expect(problemsOf({ ...valid, WEBAUTHN_ORIGINS: 'https://evil.example' }).join()).toMatch(/not on WEBAUTHN_RP_ID/);
  });

  it('refuses plain http for a non-localhost origin in production', () => {
    expect(problemsOf({ ...valid, WEBAUTHN_ORIGINS: 'http://airflow.example.com' }).join()).toMatch(/https/);
    expect(problemsOf({ ...valid, WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:8080' })).toEqual([]);
  });

  it('turns the limits off only with RATE_LIMIT_PER_MINUTE=0, and never echoes a bad REDIS_URL (it may hold a password)', () => {
    expect(loadAppConfig(valid).limits).toMatchObject({ enabled: true, addressPerMinute: 600, failedSecrets: 10, failureWindowSeconds: 900 });
    expect(loadAppConfig({ ...valid, RATE_LIMIT_PER_MINUTE: '0' }).limits.enabled).toBe(false);
    const problems = problemsOf({ ...valid, REDIS_URL: 'http://user:hunter2@cache' }).join('\n');
    expect(problems).toMatch(/REDIS_URL must be a redis/);
    expect(problems).not.toContain('hunter2');
  });
});
