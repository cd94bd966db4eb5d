-- Accounts, roles, sessions, the review workflow of reported values,
-- evidence files, notifications and the audit trail.

-- Accounts. Passwords are argon2id PHC strings; flags are 0/1 integers so
-- that both backends read them the same way.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    failed_count INTEGER NOT NULL,
    locked_until TEXT,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_login_at TEXT
);

-- A user's roles; `scope` is the department or area code of a scoped role
-- (empty otherwise).
CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Sessions: the cookie holds a random token, the table only its SHA-256,
-- so a copy of the database does not let anyone sign in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Review state of each revision. Values stored before the workflow existed
-- were entered by the bureau and count as approved.
ALTER TABLE reported_values ADD COLUMN status TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE reported_values ADD COLUMN submitted_at TEXT;
ALTER TABLE reported_values ADD COLUMN reviewed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE reported_values ADD COLUMN reviewed_at TEXT;
ALTER TABLE reported_values ADD COLUMN review_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE reported_values ADD COLUMN correction INTEGER NOT NULL DEFAULT 0;

-- What happened to each revision (submitted, approved, returned…), in order.
CREATE TABLE value_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    value_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX value_events_by_value ON value_events (value_id);

-- Locked periods: changes after locking are corrections, reviewed as usual
-- and marked as such.
CREATE TABLE period_locks (
    plan_code TEXT NOT NULL,
    period TEXT NOT NULL,
    locked_by TEXT NOT NULL,
    locked_at TEXT NOT NULL,
    PRIMARY KEY (plan_code, period)
);

-- Evidence files, stored once per content (SHA-256), linked to revisions.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    value_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    filename TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_by_value ON attachments (value_id);

-- In-app notifications (reminders, returned values).
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    href TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_by_user ON notifications (user_id, at);

-- The audit trail: append-only, each entry's hash covers its content and
-- the previous entry's hash. `audit_head` holds the last sequence number
-- and hash; appending updates it in the same transaction, which also
-- serialises concurrent appenders.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    -- The last entry removed by retention, so the chain can start after it.
    pruned_seq INTEGER NOT NULL,
    pruned_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash, pruned_seq, pruned_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0,
        '0000000000000000000000000000000000000000000000000000000000000000');
