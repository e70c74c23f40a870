/** Milliseconds since the epoch. Injected wherever time decides behaviour, so days can pass in a test. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
