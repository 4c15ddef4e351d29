// Reading PARLEY_* settings. Unset or empty gives the default; anything else must be valid, or
// the process stops at start with the variable's name, the rule and the value it got, so a typo
// never turns into a surprise hours later (a zero heartbeat, a negative window).
type Env = NodeJS.ProcessEnv;

export interface WholeNumberBounds {
  min: number;
  max?: number;
}

/** A whole number within bounds (min defaults to 0). */
export function wholeNumber(env: Env, name: string, fallback: number, bounds: WholeNumberBounds = { min: 0 }): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  const { min, max = Number.MAX_SAFE_INTEGER } = bounds;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be ${describe(min, bounds.max)}, got "${raw}"`);
  }
  return value;
}

/** A whole number of at least 1. */
export const positiveWholeNumber = (env: Env, name: string, fallback: number) => wholeNumber(env, name, fallback, { min: 1 });

/** A number above zero, fractions allowed (rates such as 0.2 per second). */
export function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** A TCP port; 0 lets the system choose one, and -1 (where `canTurnOff`) means no listener. */
export const port = (env: Env, name: string, fallback: number, canTurnOff = false) =>
  wholeNumber(env, name, fallback, { min: canTurnOff ? -1 : 0, max: 65_535 });

/** One of a fixed set of words. */
export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!allowed.includes(raw as T)) throw new Error(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
  return raw as T;
}

function describe(min: number, max: number | undefined): string {
  if (max !== undefined) return `a whole number from ${min} to ${max}`;
  if (min === 0) return "a non-negative integer";
  if (min === 1) return "a positive integer";
  return `a whole number of at least ${min}`;
}
