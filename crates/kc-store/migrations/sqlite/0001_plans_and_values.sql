-- Plans are stored as versions: loading a changed file adds a version and
-- keeps the earlier ones. The normalised plan is kept as JSON next to the
-- file it came from.
CREATE TABLE plan_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_code TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    source_text TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    UNIQUE (plan_code, version)
);

-- Reported values. A correction is a new revision of the same
-- (plan, indicator, scope, period); nothing is overwritten.
CREATE TABLE reported_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_code TEXT NOT NULL,
    indicator TEXT NOT NULL,
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    period_end TEXT NOT NULL,
    revision INTEGER NOT NULL,
    value REAL NOT NULL,
    unit TEXT NOT NULL,
    note TEXT NOT NULL,
    vintage TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    UNIQUE (plan_code, indicator, scope, period, revision)
);

CREATE INDEX reported_values_by_plan ON reported_values (plan_code, indicator, scope, period, revision);
