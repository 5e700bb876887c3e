import { InitialSchema1764300000000 } from './1764300000000-initial-schema';

/** Every migration, oldest first. Listed explicitly (no globs) so bundling and tests see the same set. */
export const MIGRATIONS = [InitialSchema1764300000000];
