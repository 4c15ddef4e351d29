// min and max of bigints (Math.min and Math.max take numbers only): sequences and watermarks.
export const minOf = (a: bigint, b: bigint) => (a < b ? a : b);
export const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);
