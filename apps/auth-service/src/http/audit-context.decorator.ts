import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuditContext } from '@app/audit';
import './principal';

export function auditContextOf(req: Request): AuditContext {
  const principal = req.principal;
  return {
    actorType: principal ? principal.kind : 'anonymous',
    actorId: principal ? principal.id : null,
    // req.ip honours X-Forwarded-For only from proxies trusted by TRUST_PROXY (the Airflow api-server).
    clientIp: req.ip ?? null,
    userAgent: req.get('user-agent') ?? null,
  };
}

/** Injects who is calling and from where, for the audit trail. */
export const Audit = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuditContext =>
  auditContextOf(ctx.switchToHttp().getRequest<Request>()),
);
