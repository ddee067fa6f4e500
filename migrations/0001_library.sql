-- The library: imported datasets and their samples, traces, token counts and search index.
-- Ids are content-derived hex strings so two researchers' files merge without collisions.

CREATE TABLE datasets (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    source_file  TEXT NOT NULL,
    format       TEXT NOT NULL,
    schema       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    rows         INTEGER NOT NULL,
    -- JSON array of {field, column}: how source columns became canonical fields.
    mapping      TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);

CREATE TABLE samples (
    id             TEXT PRIMARY KEY,
    dataset_id     TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    row_index      INTEGER NOT NULL,
    external_id    TEXT,
    question       TEXT NOT NULL,
    answer         TEXT,
    solution       TEXT,
    domain         TEXT,
    subject        TEXT,
    source         TEXT,
    level          TEXT,
    choices        TEXT,    -- JSON array of strings, unshuffled
    correct_choice INTEGER, -- index into choices
    tests          TEXT,
    entry_point    TEXT,
    grades         TEXT,    -- JSON object, e.g. {"gemini_grade": "Yes"}
    original       TEXT NOT NULL, -- the source row as JSON
    has_trace      INTEGER NOT NULL,
    -- Characters of the first thinking trace (or of the question when there is none):
    -- the length to sort by before any tokenizer has counted.
    length_chars   INTEGER NOT NULL,
    -- Tokens of the first thinking trace under the tokenizer that counted last.
    thinking_tokens INTEGER,
    UNIQUE (dataset_id, row_index)
);
CREATE INDEX samples_domain ON samples (dataset_id, domain);
CREATE INDEX samples_length ON samples (dataset_id, thinking_tokens, length_chars);

CREATE TABLE traces (
    sample_id TEXT NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('thinking', 'attempt')),
    label     TEXT NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (sample_id, position)
) WITHOUT ROWID;

CREATE TABLE tokenizers (
    id           TEXT PRIMARY KEY, -- sha256 of tokenizer.json
    name         TEXT NOT NULL,
    counted_at   TEXT NOT NULL
);

-- field: 'question', 'answer', 'solution' or 'trace:N' (N = traces.position).
CREATE TABLE token_counts (
    sample_id    TEXT NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    tokenizer_id TEXT NOT NULL REFERENCES tokenizers(id) ON DELETE CASCADE,
    field        TEXT NOT NULL,
    tokens       INTEGER NOT NULL,
    PRIMARY KEY (sample_id, tokenizer_id, field)
) WITHOUT ROWID;

-- Contentless: the text already lives in samples/traces; rowid = samples.rowid.
CREATE VIRTUAL TABLE samples_fts USING fts5(
    question, solution, traces,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
