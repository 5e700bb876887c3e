import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminOnly, BearerGuard } from '../http/bearer.guard';

/**
 * An admin API controller under /v1/admin: Bearer token required, admin group required, documented as such.
 * One decorator, so a new admin controller cannot be added with the guard forgotten.
 */
export const AdminController = (path: string) =>
  applyDecorators(
    ApiTags('admin'),
    ApiBearerAuth(),
    UseGuards(BearerGuard),
    AdminOnly(),
    Controller(`v1/admin${path ? `/${path}` : ''}`),
  );
