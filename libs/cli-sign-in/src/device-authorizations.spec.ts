import { DeviceAuthorization } from './device-authorization.entity';
import {
  deviceRequestState,
  displayUserCode,
  normalizeUserCode,
  USER_CODE_ALPHABET,
  verificationUri,
} from './device-authorizations.service';

describe('device user codes', () => {
  it('are read as typed: any case, with or without the dash or spaces', () => {
    for (const typed of ['BCDF-GHJK', 'bcdfghjk', ' bcdf ghjk ', 'Bcdf-Ghjk'])
      expect(normalizeUserCode(typed)).toBe('BCDFGHJK');
    expect(displayUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
  });

  it('refuse anything outside the unambiguous alphabet or of another length', () => {
    for (const typed of ['BCDF-GHJA', 'BCDF-GHJ0', 'BCDF-GHJ', 'BCDF-GHJKL', '', 'BCDF_GHJK'])
      expect(normalizeUserCode(typed)).toBeNull();
    expect(USER_CODE_ALPHABET).not.toMatch(/[AEIOUY01]/);
  });
});

describe('device requests', () => {
  const row = (fields: Partial<DeviceAuthorization>) =>
    Object.assign(new DeviceAuthorization(), {
      expiresAt: new Date(1_000_000),
      approvedAt: null,
      deniedAt: null,
      ...fields,
    });

  it('are pending until decided or expired; a decision stays what it was after expiry', () => {
    expect(deviceRequestState(row({}), new Date(999_999))).toBe('pending');
    expect(deviceRequestState(row({}), new Date(1_000_001))).toBe('expired');
    expect(deviceRequestState(row({ approvedAt: new Date(1) }), new Date(2_000_000))).toBe('approved');
    expect(deviceRequestState(row({ deniedAt: new Date(1) }), new Date(2_000_000))).toBe('denied');
  });

  it("are approved on Airflow's /auth/device, next to its enrollment page", () => {
    expect(verificationUri('https://airflow.example.com/auth/enroll')).toBe('https://airflow.example.com/auth/device');
    expect(verificationUri('https://example.com/airflow/auth/enroll')).toBe('https://example.com/airflow/auth/device');
  });
});
