/** Time source for everything in auth/: milliseconds since the Unix epoch. Tests inject their own. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
