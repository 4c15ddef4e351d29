// A schema step with a name, applied once per database and recorded in schema_migrations.
// Named steps let each area (groups, devices, push) add tables without contending for one counter.
export interface NamedMigration {
  /** Unique across all areas, e.g. "groups-001-roles". */
  name: string;
  sql: string;
}
