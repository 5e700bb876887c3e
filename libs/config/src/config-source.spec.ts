import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from './app-config';
import { envFileArgument, loadConfiguration, resolveEnvironment } from './config-source';

const KEY = Buffer.alloc(32, 7).toString('base64');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-source-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeEnv(path: string, body: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), body);
}

describe('configuration source', () => {
  it('reads data/service.env by default, and an explicitly set variable beats the file', () => {
    writeEnv(
      'data/service.env',
      `WEBAUTHN_RP_ID=localhost\nWEBAUTHN_ORIGINS=http://localhost:8080\nKEY_ENCRYPTION_KEY=${KEY}\nPORT=3100\n`,
    );
    const config = loadConfiguration({ cwd: dir, env: { PORT: '3200', HOST: '' } });
    expect(config).toMatchObject({ port: 3200, host: '127.0.0.1', webauthn: { rpId: 'localhost' } });
    expect(resolveEnvironment({ cwd: dir, env: {} }).file).toBe(join(dir, 'data/service.env'));
  });

  it('--env-file replaces the default file and must exist', () => {
    writeEnv('data/service.env', 'WEBAUTHN_RP_ID=default.example\n');
    writeEnv('prod.env', 'WEBAUTHN_RP_ID=prod.example\n');
    expect(resolveEnvironment({ cwd: dir, env: {}, envFile: 'prod.env' }).env.WEBAUTHN_RP_ID).toBe('prod.example');
    expect(() => resolveEnvironment({ cwd: dir, env: {}, envFile: 'missing.env' })).toThrow(
      /--env-file missing.env: no such file/,
    );
  });

  it('says where it looked when settings are missing', () => {
    try {
      loadConfiguration({ cwd: dir, env: {} });
      throw new Error('expected a configuration error');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect((error as Error).message).toMatch(/no --env-file given and no data\/service.env here/);
    }
  });

  it('finds --env-file in an argument list, in both spellings', () => {
    expect(envFileArgument(['--env-file', 'a.env'])).toBe('a.env');
    expect(envFileArgument(['--env-file=b.env'])).toBe('b.env');
    expect(envFileArgument([])).toBeUndefined();
    expect(() => envFileArgument(['--env-file'])).toThrow(/needs a path/);
  });
});
