-- Scores of evaluation generations: one row per (unit, scorer, scorer version). A new
-- scorer version adds rows beside the old ones (readers take the newest version); a
-- rescore of the same version replaces its row only when asked. Scores go with their
-- generation (and so with its run, sample and dataset).

CREATE TABLE scores (
    run_id       TEXT NOT NULL,
    sample_id    TEXT NOT NULL,
    point_index  INTEGER NOT NULL,
    sample_index INTEGER NOT NULL,
    scorer       TEXT NOT NULL,     -- e.g. math-equiv, choice-letter, code-sandbox
    version      TEXT NOT NULL,     -- the scorer crate's VERSION
    answer       TEXT,              -- the extracted answer (NULL: nothing extracted)
    correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
    details      TEXT NOT NULL DEFAULT '{}',  -- JSON: method, sandbox status, stderr tail, …
    created_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, sample_id, point_index, sample_index, scorer, version),
    FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE CASCADE,
    FOREIGN KEY (run_id, sample_id, point_index, sample_index)
        REFERENCES generations(run_id, sample_id, point_index, sample_index) ON DELETE CASCADE
) WITHOUT ROWID;
