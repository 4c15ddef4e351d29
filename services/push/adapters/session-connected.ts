// Connected devices from the gateway's own session registry, for the all-in-one process: its one
// gateway holds every stream, so push asks the registry itself rather than a route table kept
// beside it (which cost every idle stream a route and a map, and a refresh each heartbeat).
import type { ConnectedDevices } from "../ports.ts";

/** What this adapter needs of the gateway's SessionRegistry. */
export interface HeldStreams {
  devicesOf(userIds: string[]): Set<string>;
}

export class SessionConnectedDevices implements ConnectedDevices {
  readonly #streams: HeldStreams;
  constructor(streams: HeldStreams) {
    this.#streams = streams;
  }

  async connected(userIds: string[]): Promise<Set<string>> {
    return this.#streams.devicesOf(userIds);
  }
}
