import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * OAuth scopes on service accounts: a JSON text list, like `groups` (see columns.ts), so it runs on SQLite and
 * PostgreSQL alike.
 *
 * What existing accounts get: before this migration every service account in an ADMIN_GROUPS group could use the
 * whole admin API (Airflow's own credential among them). So that upgrades keep working, accounts in an admin group
 * get `admin sessions:read`, which is what they could do; every other account gets no scopes, which is what it
 * could do on this service's API (nothing: it uses Airflow's REST API through its groups). New accounts get only the
 * scopes they are created with. Narrow an upgraded account by creating one with `--scopes sessions:read` for Airflow.
 *
 * The admin groups come from ADMIN_GROUPS in the environment the migration runs in (the service's or the CLI's,
 * both start from it), default airflow-admins, split as the service's configuration splits it.
 */
const UPGRADED_ADMIN_SCOPES = ['admin', 'sessions:read'];

export class ServiceAccountScopes1764900000000 implements MigrationInterface {
  name = 'ServiceAccountScopes1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'service_accounts',
      new TableColumn({ name: 'scopes', type: 'text', isNullable: false, default: "'[]'" }),
    );
    const adminGroups = (process.env.ADMIN_GROUPS ?? 'airflow-admins')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    const rows = (await q.query('SELECT id, groups FROM service_accounts')) as Array<{ id: string; groups: string }>;
    const admins = rows
      .filter((row) => (JSON.parse(row.groups) as string[]).some((g) => adminGroups.includes(g)))
      .map((row) => row.id);
    if (admins.length === 0) return;
    // The value is a constant SQL literal (no entity transformer in between, so it is stored exactly as written);
    // the ids go through the query builder's parameters, which it spells for each driver.
    const literal = `'${JSON.stringify(UPGRADED_ADMIN_SCOPES)}'`;
    await q.manager
      .createQueryBuilder()
      .update('service_accounts')
      .set({ scopes: () => literal })
      .where('id IN (:...ids)', { ids: admins })
      .execute();
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('service_accounts', 'scopes');
  }
}
