// Embedded schema changes for devices: append named steps; never edit one that has shipped.
import type { NamedMigration } from "./named.ts";

export const devicesMigrations: NamedMigration[] = [];
