import { canonicalGroupName, parseGroupList } from './group-name';

describe('the group-name rule', () => {
  it.each([
    [' airflow-admins', 'airflow-admins'],
    ['\tops\u00a0\n', 'ops'],
    ['Airflow-Admins', 'Airflow-Admins'],
    ['équipe'.normalize('NFD'), 'équipe'],
    ['team:etl@corp_1.x', 'team:etl@corp_1.x'],
  ])('%j is stored and compared as %j (trimmed, NFC, case kept)', (raw, canonical) => {
    expect(canonicalGroupName(raw)).toBe(canonical);
  });

  it.each(['', '  ', 'airflow admins', 'ops\u0007', 'o\u200bps', '-ops', 'a/b', 'x'.repeat(129)])(
    'refuses %j: nothing inside a name is normalised away',
    (raw) => {
      expect(canonicalGroupName(raw)).toBeUndefined();
    },
  );

  it('reads an environment list into canonical names, once each, and keeps * where it means everyone', () => {
    const problems: string[] = [];
    expect(
      parseGroupList('FEDERATION_PASSKEY_REQUIRED_GROUPS', ' airflow-admins ,\tops, airflow-admins,,*', problems, true),
    ).toEqual(['airflow-admins', 'ops', '*']);
    expect(problems).toEqual([]);
  });

  it('names every refused entry as a start-up problem, and * only where allowed', () => {
    const problems: string[] = [];
    parseGroupList('OIDC_ALLOWED_GROUPS', 'ops, airflow admins,*', problems);
    expect(problems).toEqual([
      expect.stringMatching(/^OIDC_ALLOWED_GROUPS: "airflow admins" is not a group name \(letters, digits/),
      expect.stringMatching(/^OIDC_ALLOWED_GROUPS: "\*" is not a group name/),
    ]);
  });
});
