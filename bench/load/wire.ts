// The transport under a simulated device: it carries encoded ConnectRequest frames out and
// ConnectResponse frames in, over gRPC (grpc-wire.ts) or the WebSocket (ws-wire.ts).

export type Transport = "grpc" | "ws";

export interface WireTarget {
  transport: Transport;
  /** http://host:port for gRPC, ws://host:port/v1/session for the WebSocket. */
  url: string;
  /** Source address of the connection (several 127.x addresses spread the ephemeral ports). */
  localAddress?: string;
  accessToken: string;
}

export interface WireEvents {
  onFrame(frame: Uint8Array): void;
  /** The stream ended; reason is empty for a clean end. */
  onClose(reason: string): void;
}

export interface Wire {
  write(frame: Uint8Array): void;
  /** Ends the request stream politely (the server then ends its side). */
  end(): void;
  /** Drops the connection without a goodbye, as a phone losing signal would. */
  destroy(): void;
}
