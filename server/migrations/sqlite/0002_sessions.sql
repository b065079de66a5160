-- Server-side sessions: every login opens one; its id travels in the token as `sid`. Logging out revokes it,
-- which ends every token of the session (REST answers 401, sockets close with 4401).
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    created_at_ms INTEGER NOT NULL,
    -- Seconds since the epoch after which no token of the session can be used or refreshed.
    expires_at    INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Public catalog events (`catalog_update`) get a topic of their own, and may leave out the staff of one shop
-- (`except_staff`: they get the shop's `product_update` instead). SQLite cannot change a CHECK, so the event
-- log is rebuilt with the same rows and the same sequence position.
CREATE TABLE events_v2 (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at_ms INTEGER NOT NULL,
    topic         TEXT NOT NULL CHECK (topic IN ('dashboard', 'orders', 'products', 'notifications', 'catalog')),
    for_admin     INTEGER NOT NULL DEFAULT 0,
    shop_id       INTEGER,
    user_id       INTEGER,
    public        INTEGER NOT NULL DEFAULT 0,
    except_staff  INTEGER NOT NULL DEFAULT 0,
    payload       TEXT NOT NULL
);
INSERT INTO events_v2 (seq, created_at_ms, topic, for_admin, shop_id, user_id, public, payload) SELECT seq, created_at_ms, topic, for_admin, shop_id, user_id, public, payload FROM events;
CREATE TEMP TABLE kept_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'events';
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
DELETE FROM sqlite_sequence WHERE name IN ('events', 'events_v2');
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events', COALESCE(MAX(seq), 0) FROM (SELECT seq FROM kept_sequence UNION ALL SELECT MAX(seq) FROM events);
DROP TABLE kept_sequence;
