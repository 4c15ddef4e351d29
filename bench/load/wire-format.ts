// Minimal protobuf reading and writing for the load generator's hot path. The load must cost far
// less than the server it measures, so the frames it sees thousands of times a second (events,
// receipts, acks) are handled here without building message objects; everything else goes
// through the generated schemas (see frames.ts). Field numbers are those of proto/parley/v1.

export class Reader {
  pos: number;
  end: number;
  readonly buf: Uint8Array;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Varints up to 2^53 (delivery ids, sequences, nonces and lengths all stay below it). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError("truncated varint");
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  }

  /** Reads a length prefix and returns a sub-reader over those bytes, moving past them. */
  sub(): Reader {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw new RangeError("truncated field");
    return new Reader(this.buf, start, this.pos);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2: {
        const length = this.varint();
        this.pos += length;
        return;
      }
      case 5:
        this.pos += 4;
        return;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }
}

export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 128) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/** Tag byte of a length-delimited field (field numbers below 16). */
export const lenTag = (field: number) => (field << 3) | 2;
/** Tag byte of a varint field (field numbers below 16). */
export const varintTag = (field: number) => field << 3;
