// Time and ids are ports so that expiry and ordering logic can be tested deterministically.
import { randomBytes } from "node:crypto";

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface IdGenerator {
  /** A new globally unique id whose string order follows creation time (UUIDv7 layout). */
  next(): string;
}

/** UUIDv7: 48-bit millisecond timestamp, then random bits; sortable and collision-resistant. */
export function createUuidV7Generator(clock: Clock = systemClock): IdGenerator {
  return {
    next() {
      const bytes = randomBytes(16);
      const ms = BigInt(clock.now());
      for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
      bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
      bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
      const hex = bytes.toString("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
}
