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

/** Random bytes are drawn this many at a time: one call into the CSPRNG per 256 ids, not one per id. */
const entropyPoolBytes = 4096;

/** UUIDv7: 48-bit millisecond timestamp, then random bits; sortable and collision-resistant. */
export function createUuidV7Generator(clock: Clock = systemClock): IdGenerator {
  let pool = randomBytes(entropyPoolBytes);
  let offset = 0;
  const bytes = Buffer.alloc(16);
  return {
    next() {
      if (offset === entropyPoolBytes) {
        pool = randomBytes(entropyPoolBytes);
        offset = 0;
      }
      pool.copy(bytes, 0, offset, offset + 16);
      offset += 16;
      // 48 bits of milliseconds, written as a 16-bit high part and a 32-bit low part (no BigInt).
      const ms = clock.now();
      bytes.writeUInt16BE(Math.floor(ms / 2 ** 32) & 0xffff, 0);
      bytes.writeUInt32BE((ms % 2 ** 32) >>> 0, 2);
      bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
      bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
      const hex = bytes.toString("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
}
