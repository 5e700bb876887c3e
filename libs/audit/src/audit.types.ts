import type { ActorType, AuditOutcome } from './audit-event.entity';

/** Who did it and from where; built once per request (or per CLI run) and passed down. */
export interface AuditContext {
  actorType: ActorType;
  actorId?: string | null;
  clientIp?: string | null;
  userAgent?: string | null;
}

export interface AuditRecord {
  type: string;
  outcome: AuditOutcome;
  reason?: string | null;
  subjectType?: string | null;
  subjectId?: string | null;
  /** Must never contain a secret, token, challenge or signature. */
  details?: Record<string, unknown>;
}

export interface AuditQuery {
  type?: string;
  outcome?: AuditOutcome;
  /** Events whose actor is any of these ids (an admin's filter text can stand for several: see the admin API). */
  actorIds?: string[];
  /** Events whose subject is any of these ids. */
  subjectIds?: string[];
  since?: Date;
  until?: Date;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export const CLI_CONTEXT: AuditContext = { actorType: 'cli', actorId: process.env.USER ?? 'cli' };
export const SYSTEM_CONTEXT: AuditContext = { actorType: 'system', actorId: 'scheduler' };
