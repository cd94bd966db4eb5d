-- Registry records, one row per record: the natural key, the area it
-- counts for (for filtering) and the fields as JSON. The schema of each
-- registry lives in kc-domain (registry.rs), not in the database, so adding
-- a field needs no migration.
-- WITHOUT ROWID keeps each registry's records together in key order in the
-- file, so reading one registry at start-up is a sequential scan rather than
-- a lookup per row.
CREATE TABLE registry_records (
    registry TEXT NOT NULL,
    rkey TEXT NOT NULL,
    area TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (registry, rkey)
) WITHOUT ROWID;

-- Small settings, such as the date the registries are current up to.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
