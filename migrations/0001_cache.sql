-- The desktop app's local cache: the last view it showed, so it can start with it offline.
-- One row, replaced whole in one transaction; the body is the JSON of the snapshot (totals, export
-- status, volume series, epoch, seq) and the last 500 activity items.
CREATE TABLE saved_view (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    saved_at TEXT    NOT NULL,
    epoch    TEXT,
    seq      INTEGER,
    body     TEXT    NOT NULL
);
