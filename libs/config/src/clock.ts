/**
 * The service's clock, for every decision that depends on the time and every time it stores (expiries, token
 * lifetimes and their check, step-up age, key rotation; see docs/architecture.md for what stays on the wall clock):
 * one provider (`CLOCK`, given by AppConfigModule), so that a test overrides it and moves time instead of waiting.
 */
export const CLOCK = Symbol('CLOCK');
export interface Clock {
  now(): Date;
}
/** An object, not a bare function, so a test can move it with `jest.spyOn(app.get(CLOCK), 'now')`. */
export const systemClock: Clock = { now: () => new Date() };
