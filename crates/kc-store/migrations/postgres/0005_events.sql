-- Events: what each committed change touched, for the read models of every
-- server process. An event is written in the same transaction as its
-- change and audit entry. Its number comes from `event_head`, whose row is
-- locked until the commit, so numbers are given in commit order: a reader
-- that has seen number N never later finds a new event at or below N.
CREATE TABLE events (
    seq BIGINT NOT NULL,
    n INTEGER NOT NULL,
    kind TEXT NOT NULL,
    plan_code TEXT NOT NULL,
    object TEXT NOT NULL,
    audit_seq BIGINT,
    PRIMARY KEY (seq, n)
);
CREATE TABLE event_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO event_head (id, seq) VALUES (1, 0);
