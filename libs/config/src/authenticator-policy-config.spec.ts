import { ConfigValidationError, loadAppConfig } from './app-config';

const valid = {
  WEBAUTHN_RP_ID: 'airflow.example.com',
  WEBAUTHN_ORIGINS: 'https://airflow.example.com',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

function problemsOf(policy: unknown, extra: Record<string, string> = {}): string[] {
  try {
    loadAppConfig({ ...valid, AUTHENTICATOR_POLICY: JSON.stringify(policy), MDS_BLOB_PATH: '/x/blob.jwt', ...extra });
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('AUTHENTICATOR_POLICY', () => {
  it('parses rules into the typed policy, group names in their canonical form and AAGUIDs lower-cased', () => {
    const config = loadAppConfig({
      ...valid,
      AUTHENTICATOR_POLICY: JSON.stringify([
        {
          groups: [' airflow-admins ', 'ops'],
          attestation: 'required',
          aaguids: ['2FC0579F-8113-47EA-B116-BB5A8DB9202A'],
          device_bound: true,
          user_verification: 'required',
          certified_level: 'L2',
        },
        { groups: ['*'], device_bound: false },
      ]),
      AUTHENTICATOR_POLICY_GRACE_DAYS: '7',
      MDS_BLOB_PATH: '/etc/mds/blob.jwt',
    });
    expect(config.authenticatorPolicy).toEqual({
      rules: [
        {
          groups: ['airflow-admins', 'ops'],
          attestation: 'required',
          aaguids: ['2fc0579f-8113-47ea-b116-bb5a8db9202a'],
          deviceBound: true,
          userVerification: 'required',
          certifiedLevel: 'L2',
        },
        { groups: ['*'], deviceBound: false },
      ],
      graceDays: 7,
      mdsBlobPath: '/etc/mds/blob.jwt',
    });
  });

  it('defaults to no rules and a 14-day grace period', () => {
    expect(loadAppConfig(valid).authenticatorPolicy).toEqual({ rules: [], graceDays: 14 });
  });

  it('says what is wrong, one line per mistake', () => {
    expect(
      problemsOf([
        { groups: ['admins'], attestaton: 'required' },
        { groups: ['bad group'], attestation: 'maybe', device_bound: 'yes' },
        { groups: [], aaguids: ['not-a-uuid'], certified_level: 'L9', user_verification: 'preferred' },
        'admins',
      ]),
    ).toEqual([
      'AUTHENTICATOR_POLICY: rule 1 has an unknown key "attestaton" (known: groups, attestation, aaguids, device_bound, user_verification, certified_level)',
      'AUTHENTICATOR_POLICY: rule 2.groups: "bad group" is not a group name (letters, digits and . _ : @ - (no spaces inside), starting with a letter or digit, at most 128 characters)',
      'AUTHENTICATOR_POLICY: rule 2.attestation must be "none" or "required" (got "maybe")',
      'AUTHENTICATOR_POLICY: rule 2.device_bound must be true or false (got "yes")',
      'AUTHENTICATOR_POLICY: rule 3.groups must be a non-empty list of group names (or "*" for everyone)',
      'AUTHENTICATOR_POLICY: rule 3.aaguids: "not-a-uuid" is not an AAGUID (a UUID)',
      'AUTHENTICATOR_POLICY: rule 3.user_verification must be "required" (got "preferred")',
      'AUTHENTICATOR_POLICY: rule 3.certified_level must be one of L1, L1plus, L2, L2plus, L3, L3plus (got "L9")',
      'AUTHENTICATOR_POLICY: rule 4 must be an object like {"groups": ["airflow-admins"], "device_bound": true}',
    ]);
  });

  it('refuses what is not a JSON array', () => {
    expect(problemsOf({ groups: ['a'] })).toEqual(['AUTHENTICATOR_POLICY must be a JSON array of rules']);
    try {
      loadAppConfig({ ...valid, AUTHENTICATOR_POLICY: '[{' });
      throw new Error('accepted');
    } catch (error) {
      expect((error as ConfigValidationError).problems[0]).toMatch(/^AUTHENTICATOR_POLICY is not JSON: /);
    }
  });

  it('refuses a rule that checks models without attestation, and one that checks models without MDS_BLOB_PATH', () => {
    expect(problemsOf([{ groups: ['a'], attestation: 'none', certified_level: 'L1' }])).toEqual([
      'AUTHENTICATOR_POLICY: rule 1 asks for aaguids or certified_level, which need "attestation": "required"',
    ]);
    expect(problemsOf([{ groups: ['a'], attestation: 'required' }], { MDS_BLOB_PATH: '' })).toEqual([
      'AUTHENTICATOR_POLICY has rules that check authenticator models (attestation, aaguids or certified_level): set MDS_BLOB_PATH to a FIDO MDS3 blob',
    ]);
    // device_bound alone is read from the authenticator's flags: no metadata needed.
    expect(problemsOf([{ groups: ['a'], device_bound: true }], { MDS_BLOB_PATH: '' })).toEqual([]);
  });

  it('refuses a grace period that is not a number of days', () => {
    expect(problemsOf([], { AUTHENTICATOR_POLICY_GRACE_DAYS: '-1' })[0]).toMatch(/AUTHENTICATOR_POLICY_GRACE_DAYS/);
  });
});
