/**
 * The service's clock, for every decision that depends on the time (challenge, invite, CLI-code, device-request and delegation expiry): one
 * provider (`CLOCK`, given by AppConfigModule), so that a test overrides it and moves time instead of waiting.
 */
export const CLOCK = Symbol('CLOCK');
export interface Clock {
  now(): Date;
}
/** An object, not a bare function, so a test can move it with `jest.spyOn(app.get(CLOCK), 'now')`. */
export const systemClock: Clock = { now: () => new Date() };
