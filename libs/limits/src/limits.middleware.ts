import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ErrorCode } from '@app/errors';
import { assertionSubject, ClientAuthentication, ServiceAccountsService } from '@app/accounts';
import { LOGIN_CLIENT_ID, TokenVerifierService } from '@app/tokens';
import { isTokenEndpoint, LimitRule, RequestFacts, rulesFor } from './limit-rules';
import { LIMIT_STORE, LimitCount, LimitStore } from './limit-store';

interface ClaimedClient {
  clientId: string;
  /** The secret or client assertion the request carries, if any. */
  proof?: ClientAuthentication['proof'];
}

function formDecoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * Client id and secret from HTTP Basic (RFC 6749 §2.3.1 form-encodes them) or the form body, or a client assertion
 * (RFC 7523, the client its client_id or else its `sub`); unchecked, only to pick buckets (the token endpoint
 * decides, and refuses a request that uses two ways): failed assertions count against the same client as failed
 * secrets.
 */
function claimedClient(req: Request): ClaimedClient | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const clientId = formDecoded(decoded.slice(0, Math.max(0, colon)));
    if (!clientId) return undefined;
    return { clientId, proof: colon < 0 ? undefined : { secret: formDecoded(decoded.slice(colon + 1)) } };
  }
  const body = req.body as Record<string, unknown> | undefined;
  const assertion = typeof body?.client_assertion === 'string' ? body.client_assertion : undefined;
  const clientId = typeof body?.client_id === 'string' ? body.client_id : assertion && assertionSubject(assertion);
  if (!clientId) return undefined;
  if (assertion) return { clientId, proof: { assertion } };
  return { clientId, proof: typeof body?.client_secret === 'string' ? { secret: body.client_secret } : undefined };
}

function pathOf(req: Request): string {
  return req.originalUrl.split('?')[0]!;
}

function credentialIdOf(req: Request): string | undefined {
  const response = (req.body as { response?: { id?: unknown } } | undefined)?.response;
  return typeof response?.id === 'string' && response.id ? response.id : undefined;
}

function claimedUsernameOf(req: Request): string | undefined {
  const username = (req.body as { username?: unknown } | undefined)?.username;
  return typeof username === 'string' && username ? username.slice(0, 128) : undefined;
}

/**
 * Applies the limits of libs/limits/limit-rules to every route, before the controllers (which need no change):
 * counts the request in each of its buckets, answers 429 with Retry-After when one is over its limit, and takes
 * back tentative counts (failed guesses) when the answer shows the attempt did not fail. Counting before the
 * attempt runs is what makes the limit exact under concurrency: N parallel guesses cannot all see room for one.
 */
@Injectable()
export class LimitsMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Limits');

  constructor(
    @Inject(LIMIT_STORE) private readonly store: LimitStore,
    private readonly verifier: TokenVerifierService,
    private readonly clients: ServiceAccountsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    let rules: LimitRule[];
    let counts: LimitCount[];
    const now = Date.now();
    try {
      rules = rulesFor(await this.facts(req), this.config.limits);
      if (rules.length === 0) return next();
      counts = await this.store.hit(rules, now);
    } catch (error) {
      // Fail closed: without its counters the service cannot tell a guess from a person.
      this.logger.error(`rate limits unavailable: ${(error as Error).message}`);
      res.status(503).set('Retry-After', '5').json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the service cannot check its rate limits right now; try again shortly',
        code: 'limits_unavailable',
      });
      return;
    }
    const counted = rules.map((rule, i) => ({ rule, count: counts[i]! }));
    const tentative = counted.filter((x) => x.rule.countsStatus !== undefined);
    const exceeded = counted.filter((x) => x.count.hits > x.rule.limit);
    if (exceeded.length > 0) {
      this.refund(tentative.filter((x) => x.count.hits <= x.rule.limit));
      return this.refuse(req, res, exceeded, now);
    }
    if (tentative.length > 0) this.refundBeforeAnswering(res, tentative);
    next();
  }

  /**
   * An attempt that did not fail gives its tentative count back before the client sees the answer (the response's
   * end waits for the refund, one small write): otherwise a client's next request, sent the moment this answer
   * arrives, could be counted against a bucket still holding this attempt, and be refused for nothing.
   */
  private refundBeforeAnswering(res: Response, tentative: { rule: LimitRule; count: LimitCount }[]): void {
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      const notFailed = tentative.filter((x) => res.statusCode !== x.rule.countsStatus);
      if (notFailed.length === 0) return end(...args);
      void Promise.allSettled(notFailed.map((x) => this.refundOne(x))).then(() => end(...args));
      return res;
    }) as Response['end'];
  }

  private async facts(req: Request): Promise<RequestFacts> {
    // originalUrl: Nest mounts middleware on a path, which makes req.path relative to it.
    const path = pathOf(req);
    const client = req.method === 'POST' && isTokenEndpoint(path) ? claimedClient(req) : undefined;
    return {
      method: req.method,
      path,
      address: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      principal: (await this.principal(req)) ?? (client && (await this.authenticatedClient(client))),
      claimedClientId: client?.clientId,
      credentialId: credentialIdOf(req),
      claimedUsername: claimedUsernameOf(req),
    };
  }

  /**
   * A token request whose client credentials are right is counted by its client id, like a valid Bearer: Airflow's
   * own re-grant never shares a bucket with a flood from its address. Only credentials that authenticate now count
   * (a wrong secret, an unknown or disabled client: the address pays); the failed-secret limit still applies.
   */
  private async authenticatedClient({ clientId, proof }: ClaimedClient): Promise<string | undefined> {
    if (!proof) return undefined;
    try {
      return (await this.clients.authenticates({ clientId, proof })) ? `client:${clientId}` : undefined;
    } catch {
      return undefined;
    }
  }

  /** Who a valid Bearer token names; an invalid or expired one counts as no token (the address pays). */
  private async principal(req: Request): Promise<string | undefined> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!bearer) return undefined;
    try {
      const claims = await this.verifier.verify(bearer[1]!);
      return claims.client_id === LOGIN_CLIENT_ID ? `user:${claims.sub}` : `client:${claims.client_id}`;
    } catch {
      return undefined;
    }
  }

  private refund(items: { rule: LimitRule; count: LimitCount }[]): void {
    for (const item of items) void this.refundOne(item);
  }

  private async refundOne({ rule, count }: { rule: LimitRule; count: LimitCount }): Promise<void> {
    try {
      await this.store.refund(rule.bucket, count.windowEndsAt);
    } catch (error) {
      this.logger.warn(`could not take back a ${rule.bucket.split(':')[0]} count: ${(error as Error).message}`);
    }
  }

  private refuse(req: Request, res: Response, exceeded: { rule: LimitRule; count: LimitCount }[], now: number): void {
    const retryAfter = Math.max(1, ...exceeded.map((x) => Math.ceil((x.count.windowEndsAt - now) / 1000)));
    const message = `${exceeded[0]!.rule.message}; try again in ${retryAfter} s`;
    res.status(429).set({ 'Retry-After': String(retryAfter), 'Cache-Control': 'no-store' });
    // The token endpoint speaks RFC 6749 §5.2; `slow_down` is the registered OAuth error for "too fast" (RFC 8628).
    if (isTokenEndpoint(pathOf(req)))
      res.json({ error: 'slow_down', error_description: message, code: ErrorCode.RateLimited });
    else res.json({ statusCode: 429, error: 'Too Many Requests', message, code: ErrorCode.RateLimited });
  }
}
