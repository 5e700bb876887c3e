/**
 * Every /v1/admin route, for table-driven tests of who may call what. `routesOfApp` reads the routes the running
 * application really serves, so a test can prove this table is complete: a new admin route cannot be added untested.
 */
import type { INestApplication } from '@nestjs/common';

export type AdminRouteKind = 'status-read' | 'read' | 'mutation';
export interface AdminRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style pattern, as the app registers it. */
  pattern: string;
  kind: AdminRouteKind;
}

export const ADMIN_ROUTES: AdminRoute[] = [
  { method: 'get', pattern: '/v1/admin/users', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/users/:id', kind: 'status-read' },
  { method: 'patch', pattern: '/v1/admin/users/:id', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/users/:id/disable', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/users/:id/enable', kind: 'mutation' },
  { method: 'get', pattern: '/v1/admin/users/:id/passkeys', kind: 'read' },
  { method: 'delete', pattern: '/v1/admin/users/:id/command-lines/:line', kind: 'mutation' },
  { method: 'patch', pattern: '/v1/admin/passkeys/:id', kind: 'mutation' },
  { method: 'delete', pattern: '/v1/admin/passkeys/:id', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/passkeys/:id/unflag', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/invites', kind: 'mutation' },
  { method: 'get', pattern: '/v1/admin/invites', kind: 'read' },
  { method: 'delete', pattern: '/v1/admin/invites/:id', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/service-accounts', kind: 'mutation' },
  { method: 'get', pattern: '/v1/admin/service-accounts', kind: 'status-read' },
  { method: 'post', pattern: '/v1/admin/service-accounts/:id/rotate-secret', kind: 'mutation' },
  { method: 'put', pattern: '/v1/admin/service-accounts/:id/keys', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/service-accounts/:id/disable', kind: 'mutation' },
  { method: 'post', pattern: '/v1/admin/service-accounts/:id/enable', kind: 'mutation' },
  { method: 'get', pattern: '/v1/admin/keys', kind: 'read' },
  { method: 'post', pattern: '/v1/admin/keys/rotate', kind: 'mutation' },
  { method: 'get', pattern: '/v1/admin/audit', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/audit/export', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/audit/verify', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/audit/head', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/reports/access-review', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/reports/people', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/delegations', kind: 'read' },
  { method: 'get', pattern: '/v1/admin/delegations/:id', kind: 'status-read' },
  { method: 'delete', pattern: '/v1/admin/delegations/:id', kind: 'mutation' },
];

/** The pattern with every `:param` replaced by `id`. */
export function routePath(route: AdminRoute, id: string): string {
  return route.pattern.replace(/:[a-z]+/g, id);
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** `method pattern` of every route the application serves under /v1/admin. */
export function routesOfApp(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: Layer[] }; _router?: { stack: Layer[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  return stack
    .filter((layer) => layer.route?.path.startsWith('/v1/admin'))
    .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m} ${layer.route!.path}`))
    .sort();
}
