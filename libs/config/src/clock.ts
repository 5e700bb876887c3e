/**
 * The service's clock, for every decision that depends on the time (challenge, invite and CLI-code expiry): one
 * provider (`CLOCK`, given by AppConfigModule), so that a test overrides it and moves time instead of waiting.
 */
export const CLOCK = Symbol('CLOCK');
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
