-- Optimistic concurrency: every change of a product or an order bumps its version; a write sent with
-- `If-Match: "<version>"` applies only to that version (else 409 with the current value).
ALTER TABLE products ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE orders ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- `Idempotency-Key`: the first answer to a user's key, replayed to a retry with the same request; kept 24 h.
-- `status` is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT,
    body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
