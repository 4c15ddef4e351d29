// Presence and typing metrics, registered on the process's Prometheus registry.
import { Counter, type Registry } from "prom-client";

export function createPresenceMetrics(registry: Registry) {
  return {
    transitions: new Counter({
      name: "parley_presence_transitions_total",
      help: "Users coming online or going offline (first stream opened, last stream gone)",
      labelNames: ["state"],
      registers: [registry],
    }),
    sent: new Counter({
      name: "parley_presence_updates_sent_total",
      help: "Presence frames written to device streams (snapshots not included)",
      registers: [registry],
    }),
    coalesced: new Counter({
      name: "parley_presence_updates_coalesced_total",
      help: "Presence updates not sent because a newer state for the same user replaced them within the window",
      registers: [registry],
    }),
    typingNotices: new Counter({
      name: "parley_typing_notices_total",
      help: "Typing starts and stops published to other members",
      labelNames: ["typing"],
      registers: [registry],
    }),
    typingDropped: new Counter({
      name: "parley_typing_dropped_total",
      help: "Typing frames dropped, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}

export type PresenceMetrics = ReturnType<typeof createPresenceMetrics>;
