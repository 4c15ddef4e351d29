// What a feature beside messaging (presence and typing) may hook into a device stream: when it
// opens, when its replay is done, the typing frames it receives, and when it closes. The hooks
// must not block or throw: they start their own work and report their own failures.
import type { TypingRequest } from "../../gen/parley/v1/session_pb.js";
import type { DeviceSession } from "./device-session.ts";

export interface SessionExtension {
  /** The stream was accepted (after Hello), before its replay. */
  opened(session: DeviceSession): void;
  /** Replay is done and CaughtUp is queued; what follows is live. */
  caughtUp(session: DeviceSession): void;
  /** A TypingRequest frame; a rejected promise becomes a StreamError frame (the stream goes on). */
  typing(session: DeviceSession, request: TypingRequest): Promise<void>;
  /** The stream has ended, for whatever reason. */
  closed(session: DeviceSession): void;
}
