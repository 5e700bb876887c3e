import { addressKey, LimitSettings, rulesFor } from './limit-rules';

const settings: LimitSettings = {
  enabled: true,
  addressPerMinute: 600,
  clientPerMinute: 1200,
  ceremonyStartsPerMinute: 60,
  failedSecrets: 10,
  failedSignIns: 10,
  failureWindowSeconds: 900,
  redisKeyPrefix: 'awa:limits:',
};
const buckets = (...args: Parameters<typeof rulesFor>) => rulesFor(...args).map((r) => r.bucket);

describe('rate-limit rules', () => {
  it('counts a request without a valid token by address, and one with a valid token by principal only', () => {
    expect(buckets({ method: 'GET', path: '/v1/me', address: '10.0.0.1' }, settings)).toEqual(['address:10.0.0.1']);
    expect(
      buckets({ method: 'GET', path: '/v1/me', address: '10.0.0.1', principal: 'client:airflow' }, settings),
    ).toEqual(['principal:client:airflow']);
  });

  it('keys failed client authentications by claimed client id and address, counting only 401 answers', () => {
    const rules = rulesFor(
      { method: 'POST', path: '/v1/oauth/token', address: '10.0.0.1', claimedClientId: 'abc' },
      settings,
    );
    expect(rules[1]).toMatchObject({ bucket: 'secret:abc|10.0.0.1', limit: 10, windowMs: 900_000, countsStatus: 401 });
  });

  it('counts a token request whose client authenticated by client id only, still under its failed-secret limit', () => {
    const facts = {
      method: 'POST',
      path: '/v1/oauth/token',
      address: '10.0.0.1',
      claimedClientId: 'airflow',
      principal: 'client:airflow',
    };
    expect(buckets(facts, settings)).toEqual(['principal:client:airflow', 'secret:airflow|10.0.0.1']);
  });

  it('keys failed one-time CLI codes by username (however it is spelt) and address, counting only 401 answers', () => {
    const facts = { method: 'POST', path: '/v1/cli/token', address: '10.0.0.1', claimedUsername: ' Alice ' };
    expect(rulesFor(facts, settings)[1]).toMatchObject({
      bucket: 'cli-code:alice|10.0.0.1',
      limit: 10,
      windowMs: 900_000,
      countsStatus: 401,
    });
    const spelt = { method: 'POST', path: '/V1/CLI/TOKEN/', address: '10.0.0.1', claimedUsername: 'alice' };
    expect(buckets(spelt, settings)).toContain('cli-code:alice|10.0.0.1');
  });

  it('limits device authorization requests per address (a ceremony start) and per client, and their failed secrets', () => {
    const facts = {
      method: 'POST',
      path: '/v1/oauth/device_authorization',
      address: '10.0.0.1',
      claimedClientId: 'airflow-cli',
    };
    expect(buckets(facts, settings)).toEqual([
      'address:10.0.0.1',
      'ceremony:10.0.0.1',
      'device-client:airflow-cli',
      'secret:airflow-cli|10.0.0.1',
    ]);
  });

  it('counts unknown device user codes per person and per address, on every method, only when the answer is 404', () => {
    for (const method of ['GET', 'POST']) {
      const rules = rulesFor(
        { method, path: '/v1/me/Device-Requests/BCDF-GHJK/approve', address: '10.0.0.1', principal: 'user:u1' },
        settings,
      );
      expect(rules.filter((r) => r.countsStatus === 404)).toEqual([
        expect.objectContaining({ bucket: 'user-code:user:u1', limit: 10, windowMs: 900_000 }),
        expect.objectContaining({ bucket: 'user-code:10.0.0.1', limit: 10, windowMs: 900_000 }),
      ]);
    }
  });

  it('cannot be dodged by the spelling of a path', () => {
    for (const path of ['/V1/OAuth/Token', '/v1/oauth/token/', '/v1/oauth/token//']) {
      expect(buckets({ method: 'POST', path, address: 'a', claimedClientId: 'abc' }, settings)).toContain(
        'secret:abc|a',
      );
    }
    expect(buckets({ method: 'POST', path: '/v1/Authentication/Options/', address: 'a' }, settings)).toContain(
      'ceremony:a',
    );
  });

  it('counts an invite lookup as a ceremony start of its address', () => {
    expect(buckets({ method: 'POST', path: '/v1/registration/invite', address: 'a' }, settings)).toContain(
      'ceremony:a',
    );
  });

  it('does not count ceremony starts of a signed-in person adding a passkey against their address', () => {
    expect(
      buckets({ method: 'POST', path: '/v1/registration/options', address: 'a', principal: 'user:u1' }, settings),
    ).toEqual(['principal:user:u1']);
  });

  it('keeps bucket names bounded whatever an attacker sends', () => {
    const [, secret] = buckets(
      { method: 'POST', path: '/v1/oauth/token', address: 'a', claimedClientId: 'x'.repeat(5000) },
      settings,
    );
    expect(secret!.length).toBeLessThanOrEqual(200);
    expect(secret).toMatch(/^secret:#/);
  });

  it('never limits health checks, and RATE_LIMIT_PER_MINUTE=0 turns every limit off', () => {
    expect(rulesFor({ method: 'GET', path: '/readyz', address: 'a' }, settings)).toEqual([]);
    expect(
      rulesFor(
        { method: 'POST', path: '/v1/oauth/token', address: 'a', claimedClientId: 'c' },
        { ...settings, enabled: false },
      ),
    ).toEqual([]);
  });

  it('counts an IPv6 client by its /64, so rotating addresses inside it gives no fresh buckets', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(buckets({ method: 'GET', path: '/v1/me', address: '2001:db8:1:2::99' }, settings)).toEqual([
      'address:2001:db8:1:2::/64',
    ]);
  });
});
