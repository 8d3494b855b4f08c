-- The outbox head: one row holding the database's epoch and the last assigned seq. Writers
-- update it inside their transaction, so seq follows commit order.
CREATE TABLE outbox_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT    NOT NULL,
    seq   INTEGER NOT NULL
);
INSERT INTO outbox_head (id, epoch, seq) VALUES (1, lower(hex(randomblob(16))), 0);

-- Every committed event, in seq order: what the broadcaster publishes and backfill serves.
CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    kind TEXT    NOT NULL,
    data TEXT    NOT NULL,
    at   TEXT    NOT NULL
);

CREATE TABLE books (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    isbn       TEXT,
    author     TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX books_title ON books (title);
CREATE UNIQUE INDEX books_isbn ON books (isbn) WHERE isbn IS NOT NULL;

CREATE TABLE covers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    book_id    INTEGER NOT NULL REFERENCES books (id),
    format     TEXT NOT NULL,
    finish     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE job_orders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    book_id    INTEGER NOT NULL REFERENCES books (id),
    customer   TEXT    NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    due_date   TEXT,
    created_at TEXT    NOT NULL
);
-- Times are stored as fixed-width RFC 3339 UTC text, so text order is time order and the
-- volume series can group by prefix.
CREATE INDEX job_orders_created_at ON job_orders (created_at);

CREATE TABLE print_exports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job_order_id INTEGER NOT NULL REFERENCES job_orders (id),
    status       TEXT    NOT NULL CHECK (status IN ('started', 'completed', 'failed')),
    reason       TEXT,
    started_at   TEXT    NOT NULL,
    finished_at  TEXT
);
