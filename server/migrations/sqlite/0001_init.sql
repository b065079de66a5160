-- The marketplace: users, shops, products, orders, carts, wishlists, notifications, and the event log.
-- Money is integer cents; timestamps are RFC 3339 UTC text (`YYYY-MM-DDTHH:MM:SSZ`, sortable as text).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'owner', 'customer')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE shops (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    owner_id   INTEGER NOT NULL UNIQUE REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    deleted     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX products_shop ON products (shop_id) WHERE deleted = 0;

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops (id),
    customer_id INTEGER NOT NULL REFERENCES users (id),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX orders_shop_created ON orders (shop_id, created_at);
CREATE INDEX orders_customer_created ON orders (customer_id, created_at);

CREATE TABLE order_items (
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    product_id       INTEGER NOT NULL REFERENCES products (id),
    product_name     TEXT NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE cart_items (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    added_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id)
);

CREATE TABLE wishlist_items (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    added_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, product_id)
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('new_order', 'order_status', 'low_stock', 'info')),
    title      TEXT NOT NULL,
    message    TEXT NOT NULL,
    read       INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- The durable event stream: one row per event, `seq` is the row id. Who may see a row:
-- admins when `for_admin`, the owner of `shop_id`, the user `user_id`, everybody when `public`.
-- `payload` is the complete ServerMsg JSON, `seq` included, serialized once at append.
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at_ms INTEGER NOT NULL,
    topic         TEXT NOT NULL CHECK (topic IN ('dashboard', 'orders', 'products', 'notifications')),
    for_admin     INTEGER NOT NULL DEFAULT 0,
    shop_id       INTEGER,
    user_id       INTEGER,
    public        INTEGER NOT NULL DEFAULT 0,
    payload       TEXT NOT NULL
);

-- One row: the highest seq ever deleted by retention; a resume from below it must resync.
CREATE TABLE event_retention (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
);
INSERT INTO event_retention (id, pruned_through) VALUES (1, 0);
