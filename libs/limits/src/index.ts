export { LimitStore, LimitCounter, LimitCount, LimitStoreHealth, LIMIT_STORE } from './limit-store';
export { LimitRule, RequestFacts, rulesFor, routeOf } from './limit-rules';
export { LimitsMiddleware } from './limits.middleware';
export { LimitsModule } from './limits.module';
