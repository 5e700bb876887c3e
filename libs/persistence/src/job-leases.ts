import { UnitOfWork } from './unit-of-work';

/*
 * Scheduled jobs run once per interval however many instances share the database: before a run, an instance claims
 * the job's lease row for the interval; a claim succeeds only when the previous lease has expired, in one atomic
 * upsert, so of N instances ticking together exactly one runs and the others skip until the lease expires. The
 * lease is not released after the run: it is what spaces runs one interval apart. A crashed holder delays the job by
 * at most one interval. `runs` counts claims, for operators and tests.
 */
const CLAIM =
  'INSERT INTO job_leases (name, holder, expires_at, runs) VALUES (?, ?, ?, 1) ' +
  'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, runs = job_leases.runs + 1 WHERE job_leases.expires_at <= ? RETURNING holder';

export class JobLeases {
  constructor(
    private readonly uow: UnitOfWork,
    /** Who holds a lease (logged in the row): this process. */
    private readonly holder = `pid-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  ) {}

  /** True when this instance may run `job` now; the lease then keeps the others off for `intervalMs`. */
  async claim(job: string, intervalMs: number, now = Date.now()): Promise<boolean> {
    // A little short of the interval, so this instance's own next tick (timers drift late, never early) finds the
    // lease expired rather than missing a whole interval.
    const expiresAt = now + Math.max(intervalMs - Math.min(intervalMs / 10, 5_000), 1);
    const claimed = await this.uow.run((tx) => tx.query(CLAIM, [job, this.holder, expiresAt, now]));
    return claimed.rows.length === 1;
  }

  /** Runs `work` if this instance wins the lease for this interval; returns whether it ran. */
  async runOnce(job: string, intervalMs: number, work: () => Promise<unknown>): Promise<boolean> {
    if (!(await this.claim(job, intervalMs))) return false;
    await work();
    return true;
  }
}
