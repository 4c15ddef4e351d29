// gRPC's length-prefixed messages on an HTTP/2 stream: one flag byte (bit 0 = compressed), a
// four-byte big-endian length, then the message. The reader splits a stream of DATA chunks into
// messages (frame-encoding.ts writes them).
import { Code } from "@connectrpc/connect";
import { parleyError } from "../../shared/errors.ts";

const headerBytes = 5;
/** What the reader holds between messages: not the last chunk's zero-length tail, which kept that chunk alive. */
const nothing = Buffer.alloc(0);

export class GrpcMessageReader {
  readonly #maxMessageBytes: number;
  #buffered: Buffer = nothing;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Bytes held for a message not yet complete. */
  get pendingBytes(): number {
    return this.#buffered.byteLength;
  }

  /** Appends a chunk and returns the messages it completes; throws on a frame it will not read. */
  push(chunk: Buffer): Uint8Array[] {
    this.#buffered = this.#buffered.byteLength === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const messages: Uint8Array[] = [];
    while (this.#buffered.byteLength >= headerBytes) {
      const flags = this.#buffered[0] as number;
      const length = this.#buffered.readUInt32BE(1);
      if (flags & 1) {
        throw parleyError(
          Code.InvalidArgument,
          "COMPRESSION_UNSUPPORTED",
          "a compressed message arrived but this server accepts grpc-encoding identity only",
        );
      }
      if (length > this.#maxMessageBytes) {
        throw parleyError(
          Code.ResourceExhausted,
          "FRAME_TOO_LARGE",
          `a message of ${length} bytes exceeds the ${this.#maxMessageBytes}-byte limit`,
        );
      }
      if (this.#buffered.byteLength < headerBytes + length) break;
      messages.push(this.#buffered.subarray(headerBytes, headerBytes + length));
      this.#buffered =
        this.#buffered.byteLength === headerBytes + length ? nothing : this.#buffered.subarray(headerBytes + length);
    }
    return messages;
  }
}
