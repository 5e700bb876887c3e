import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/*
 * Where a query goes: into the `*.repository.ts` of its aggregate, with methods taking the unit of work's `Tx`.
 * Services, use cases, controllers and guards hold rules and call repositories; they never reach the ORM themselves
 * (no EntityManager, no DataSource, no `.manager`, no raw SQL through `.query(`), so a spec with in-memory
 * repositories can test their rules. The persistence library itself (the unit of work, job leases, migrations) is
 * where the ORM is wired, and is exempt.
 */
const root = join(__dirname, '..', '..', '..');
const ORM_IMPORT = /^\s*import\b[^;]*\b(EntityManager|DataSource)\b[^;]*from\s+'typeorm'/m;
const MANAGER_CALL = /\.manager\b/;
/** Raw SQL: `tx.query(...)`, `tx.query<Row>(...)` (so no other method of the service side is called `query`). */
const QUERY_CALL = /\.query\s*[<(]/;

/**
 * Repositories not named `*.repository.ts`, each for a reason. The limits' SQL store is one implementation of the
 * `LimitStore` port (Redis is the other): a class of storage only (the rules are in limit-rules.ts and the
 * middleware), so it is the limits aggregate's repository under the port's naming.
 */
export const REPOSITORIES_BY_OTHER_NAME: ReadonlyMap<string, string> = new Map([
  ['libs/limits/src/sql-limit-store.ts', 'the limits repository (rate_limits), the SQL LimitStore'],
]);

/** Whether a source file may use the ORM directly. */
export function mayUseOrm(file: string): boolean {
  return (
    file.startsWith('libs/persistence/src/') ||
    file.endsWith('.repository.ts') ||
    file.includes('/migrations/') ||
    REPOSITORIES_BY_OTHER_NAME.has(file)
  );
}

/** The ORM uses in one file's text, as "file:line: text" (comments are not code). */
export function ormUses(file: string, text: string): string[] {
  const uses: string[] = [];
  if (ORM_IMPORT.test(text)) uses.push(`${file}: imports EntityManager or DataSource from typeorm`);
  text.split('\n').forEach((line, i) => {
    const code = line.trim();
    if (code.startsWith('*') || code.startsWith('//') || code.startsWith('/*')) return;
    if (MANAGER_CALL.test(code) || QUERY_CALL.test(code)) uses.push(`${file}:${i + 1}: ${code}`);
  });
  return uses;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('queries live in repositories', () => {
  it('no service, use case, guard, controller or CLI command in apps/ and libs/ reaches the ORM or runs SQL outside a repository', () => {
    const offenders = [...sources(join(root, 'apps')), ...sources(join(root, 'libs'))]
      .map((path) => relative(root, path))
      .filter((file) => !mayUseOrm(file))
      .flatMap((file) => ormUses(file, readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the check finds a planted `.manager` call, an EntityManager import and a DataSource import', () => {
    const service = [
      "import { Injectable } from '@nestjs/common';",
      'export class Planted {',
      '  find(tx: Tx) {',
      '    return tx.manager.findOneBy(User, { id });',
      '  }',
      '}',
    ].join('\n');
    expect(ormUses('libs/x/src/planted.service.ts', service)).toEqual([
      'libs/x/src/planted.service.ts:4: return tx.manager.findOneBy(User, { id });',
    ]);
    expect(ormUses('a.ts', "import { EntityManager, In } from 'typeorm';")).toHaveLength(1);
    expect(ormUses('a.ts', "import {\n  In,\n  DataSource,\n} from 'typeorm';")).toHaveLength(1);
    expect(ormUses('a.ts', "import { In, IsNull } from 'typeorm';\n// tx.manager is not used here")).toEqual([]);
  });

  it('the check finds raw SQL run through `.query(` outside a repository, typed or not', () => {
    const guard = [
      'export class PlantedGuard {',
      '  async count(tx: Tx) {',
      "    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [KEY]);",
      '    const { rows } = await tx.query<{ groups: string }>(ACTIVE_PEOPLE);',
      '    // tx.query(...) in a comment is not code',
      '  }',
      '}',
    ].join('\n');
    expect(ormUses('libs/x/src/planted.guard.ts', guard)).toEqual([
      "libs/x/src/planted.guard.ts:3: if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [KEY]);",
      'libs/x/src/planted.guard.ts:4: const { rows } = await tx.query<{ groups: string }>(ACTIVE_PEOPLE);',
    ]);
    expect(ormUses('a.ts', 'await this.uow.run((unit) => unit.query (SWEEP, [now]));')).toHaveLength(1);
    expect(ormUses('a.ts', 'const page = await this.audit.search({ limit: 10 });')).toEqual([]);
  });

  it('exempts repositories (by name, or named in REPOSITORIES_BY_OTHER_NAME), migrations and the persistence library only', () => {
    expect(mayUseOrm('libs/accounts/src/user.repository.ts')).toBe(true);
    expect(mayUseOrm('libs/persistence/src/migrations/1764300000000-initial-schema.ts')).toBe(true);
    expect(mayUseOrm('libs/persistence/src/unit-of-work.ts')).toBe(true);
    expect(mayUseOrm('libs/accounts/src/users.service.ts')).toBe(false);
    expect(mayUseOrm('apps/auth-service/src/sign-in/passkey-sign-in.ts')).toBe(false);
    expect(mayUseOrm('libs/limits/src/sql-limit-store.ts')).toBe(true);
    expect(mayUseOrm('libs/limits/src/limits.middleware.ts')).toBe(false);
    expect(mayUseOrm('libs/accounts/src/last-admin.guard.ts')).toBe(false);
    expect(mayUseOrm('libs/audit/src/audit-retention.ts')).toBe(false);
    expect(mayUseOrm('libs/webauthn/src/decoy-credentials.ts')).toBe(false);
  });
});
