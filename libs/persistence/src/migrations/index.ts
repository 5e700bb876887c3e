import { InitialSchema1764300000000 } from './1764300000000-initial-schema';
import { RateLimits1764400000000 } from './1764400000000-rate-limits';

/** Every migration, oldest first. Listed explicitly (no globs) so bundling and tests see the same set. */
export const MIGRATIONS = [InitialSchema1764300000000, RateLimits1764400000000];
