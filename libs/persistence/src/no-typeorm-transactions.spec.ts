import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/*
 * One way to run a transaction: UnitOfWork.run. TypeORM's own transaction calls must not appear in the service's
 * code: on SQLite, inside a unit of work, their BEGIN fails and TypeORM then rolls back the unit's transaction (the
 * rest of the unit would run without one); outside a unit they would share SQLite's one connection with the units.
 */
const root = join(__dirname, '..', '..', '..');
const FORBIDDEN =
  /\.(transaction|startTransaction|commitTransaction|rollbackTransaction|save|remove|softRemove|recover)\(/;
const ALLOWED = new Set(['libs/persistence/src/unit-of-work.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('transactions', () => {
  it('are opened only by the unit of work (no TypeORM transaction, save() or remove() in apps/ and libs/)', () => {
    const offenders = [...sources(join(root, 'apps')), ...sources(join(root, 'libs'))]
      .map((file) => relative(root, file))
      .filter((file) => !ALLOWED.has(file))
      .flatMap((file) =>
        readFileSync(join(root, file), 'utf8')
          .split('\n')
          .map((line, i) => ({ line: line.trim(), at: `${file}:${i + 1}` }))
          .filter(({ line }) => FORBIDDEN.test(line) && !line.startsWith('*') && !line.startsWith('//'))
          .map(({ at, line }) => `${at}: ${line}`),
      );
    expect(offenders).toEqual([]);
  });
});
