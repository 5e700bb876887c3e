import { Column, DataSource, Entity } from 'typeorm';
import { BigCounterColumn, IdColumn, InstantColumn, JsonTextColumn, SnakeCaseColumns } from './columns';
import { EntityRows } from './entity-rows';

@Entity('things')
class Thing {
  @IdColumn()
  id: string;

  @InstantColumn({ nullable: true })
  seenAt: Date | null;

  @BigCounterColumn()
  counter: number;

  @JsonTextColumn()
  tags: string[];

  @Column({ type: 'boolean' })
  isOn: boolean;
}

describe('EntityRows (row <-> entity through the column metadata)', () => {
  let ds: DataSource;
  let rows: EntityRows<Thing>;
  beforeAll(async () => {
    ds = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [Thing],
      namingStrategy: new SnakeCaseColumns(),
      synchronize: true,
    }).initialize();
    rows = new EntityRows(ds, Thing);
  });
  afterAll(async () => ds.destroy());

  it('binds values the way the columns store them (epoch ms, JSON text, 0/1)', () => {
    const at = new Date(1_764_300_000_123);
    expect(
      rows.params({ id: 'a', seenAt: at, counter: 7, tags: ['x'], isOn: true }, [
        'id',
        'seenAt',
        'counter',
        'tags',
        'isOn',
      ]),
    ).toEqual(['a', 1_764_300_000_123, 7, '["x"]', 1]);
    expect(rows.param('seenAt', null)).toBeNull();
  });

  it('reads a row written with those parameters back into the same entity, including through a column prefix', async () => {
    const thing = { id: 'b', seenAt: new Date(1_764_300_000_456), counter: 2 ** 40, tags: ['a', 'b'], isOn: false };
    await ds.query(
      'INSERT INTO things (id, seen_at, counter, tags, is_on) VALUES (?, ?, ?, ?, ?)',
      rows.params(thing, ['id', 'seenAt', 'counter', 'tags', 'isOn']),
    );
    const [row] = await ds.query('SELECT * FROM things WHERE id = ?', ['b']);
    const read = rows.fromRow(row);
    expect(read).toBeInstanceOf(Thing);
    expect(read).toEqual(thing);
    const [prefixed] = await ds.query('SELECT id AS t_id, counter AS t_counter FROM things WHERE id = ?', ['b']);
    expect(rows.fromRow(prefixed, 't_')).toEqual({ id: 'b', counter: 2 ** 40 });
  });

  it("maps PostgreSQL's shapes too (bigint as a string, booleans as booleans)", () => {
    expect(rows.fromRow({ id: 'c', seen_at: '1764300000789', counter: '12', tags: '[]', is_on: true })).toEqual({
      id: 'c',
      seenAt: new Date(1_764_300_000_789),
      counter: 12,
      tags: [],
      isOn: true,
    });
  });

  it('inserts an entity as one row with every column bound the way it is stored', async () => {
    const thing = { id: 'd', seenAt: null, counter: 3, tags: ['t'], isOn: true };
    const [sql, params] = rows.insert(thing);
    expect(sql).toBe('INSERT INTO things (id, seen_at, counter, tags, is_on) VALUES (?, ?, ?, ?, ?)');
    expect(params).toEqual(['d', null, 3, '["t"]', 1]);
    await ds.query(sql, params);
    const [row] = await ds.query('SELECT * FROM things WHERE id = ?', ['d']);
    expect(rows.fromRow(row)).toEqual(thing);
  });
});
