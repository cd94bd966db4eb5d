-- The technology market's cases: brokers' deals and challenge projects
-- (揭榜挂帅). Each case is one JSON document of kc_domain::market's types;
-- the columns beside it are what lists filter on. `version` guards
-- against two people changing the same case at once.
CREATE TABLE market_cases (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    area TEXT NOT NULL,
    stage TEXT NOT NULL,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    data TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX market_cases_kind ON market_cases (kind, stage);
