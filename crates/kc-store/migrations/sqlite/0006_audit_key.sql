-- The audit trail's key (kept outside the database) and its MACs.
-- `mac` is HMAC-SHA256 under the audit key of the database id, the entry's
-- sequence number and its hash (which covers every field and the previous
-- hash); empty for entries written before the database was sealed.
-- `key_id` names the key the database was sealed with (a fingerprint, never
-- the key), `db_id` tells this database's lines in the anchor file apart,
-- `sealed_seq` is the `audit.key` entry that sealed it: every entry from
-- there on carries a MAC.
ALTER TABLE audit_log ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN db_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN sealed_seq BIGINT NOT NULL DEFAULT 0;
