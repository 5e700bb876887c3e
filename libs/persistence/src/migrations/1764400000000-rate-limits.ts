import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * Rate-limit counters shared by every instance: one row per bucket (what is limited, e.g. a client id and an
 * address) with its count and the end of its fixed window, updated by one atomic upsert (libs/limits).
 */
export class RateLimits1764400000000 implements MigrationInterface {
  name = 'RateLimits1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'rate_limits',
        columns: [
          { name: 'bucket', type: 'varchar', length: '200', isPrimary: true },
          { name: 'hits', type: 'integer' },
          { name: 'window_ends_at', type: 'bigint' },
        ],
        indices: [{ name: 'IDX_rate_limits_window_ends_at', columnNames: ['window_ends_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('rate_limits');
  }
}
