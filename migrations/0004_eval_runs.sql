-- Evaluation runs and their generations. A run stores its whole plan (JSON) and
-- provenance, so it can be resumed and reproduced; a generation is one unit
-- (run, sample, sweep point, sample index), unique, committed whole when it finishes.
-- Runs and generations go with their dataset (ON DELETE CASCADE).

CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    dataset_id     TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    plan           TEXT NOT NULL,  -- JSON RunPlan
    plan_hash      TEXT NOT NULL,  -- sha256 of plan + model fingerprint: "same run" lookups
    provenance     TEXT NOT NULL,  -- JSON Provenance (never secrets)
    model          TEXT NOT NULL,
    policy         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('running', 'paused', 'done', 'failed')),
    total_units    INTEGER NOT NULL,
    forward_tokens INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX runs_plan ON runs (plan_hash);

-- Prompts are shared by every unit of a problem: stored once, by content.
CREATE TABLE prompts (
    id        TEXT PRIMARY KEY,  -- hash of text and token ids
    text      TEXT NOT NULL,
    token_ids BLOB NOT NULL      -- zstd-compressed LEB128 varints
);

CREATE TABLE generations (
    run_id          TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    sample_id       TEXT NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    point_index     INTEGER NOT NULL,
    sample_index    INTEGER NOT NULL,
    seed            INTEGER NOT NULL,
    prompt_id       TEXT REFERENCES prompts(id),
    token_ids       BLOB,             -- zstd-compressed LEB128 varints
    text            TEXT,
    output_tokens   INTEGER NOT NULL DEFAULT 0,  -- sampled + inserted
    thinking_tokens INTEGER NOT NULL DEFAULT 0,
    answer_tokens   INTEGER NOT NULL DEFAULT 0,
    answer_start    INTEGER,
    insertions      TEXT NOT NULL DEFAULT '[]',  -- JSON [{token_index, token_count, text, kind}]
    stop_reason     TEXT,
    tries           INTEGER NOT NULL DEFAULT 1,
    accepted        INTEGER NOT NULL DEFAULT 1,
    shuffle         TEXT,             -- JSON: shown letter i = stored choice shuffle[i]
    error           TEXT,             -- a failed unit: resume runs it again
    timings         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL,
    PRIMARY KEY (run_id, sample_id, point_index, sample_index)
) WITHOUT ROWID;
CREATE INDEX generations_sample ON generations (sample_id);
