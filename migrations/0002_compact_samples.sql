-- Keep the samples table narrow and let search work on rowid ranges.
--
-- `original_refs`: source columns whose text is stored verbatim in a canonical field are
-- saved as null in `original`, and this JSON object maps each such column to its field
-- ('question', 'answer', 'solution' or 'trace:N'); reading a sample puts the text back.
-- Responses are then stored once, and rows stay small enough to scan.
ALTER TABLE samples ADD COLUMN original_refs TEXT;

-- An import gives its samples consecutive rowids, so a dataset is a rowid range and a
-- search can ask the full-text index for that range alone.
ALTER TABLE datasets ADD COLUMN first_rowid INTEGER;
ALTER TABLE datasets ADD COLUMN last_rowid INTEGER;
UPDATE datasets SET
    first_rowid = (SELECT MIN(rowid) FROM samples WHERE dataset_id = datasets.id),
    last_rowid  = (SELECT MAX(rowid) FROM samples WHERE dataset_id = datasets.id);

-- Traces in insertion order with a small index for lookups: as a WITHOUT ROWID table
-- keyed by a random sample id, every 6 KB trace landed on a random page of a table far
-- larger than the cache, which made large imports read and rewrite pages all along.
CREATE TABLE traces_by_rowid (
    sample_id TEXT NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('thinking', 'attempt')),
    label     TEXT NOT NULL,
    text      TEXT NOT NULL,
    UNIQUE (sample_id, position)
);
INSERT INTO traces_by_rowid (sample_id, position, kind, label, text)
SELECT t.sample_id, t.position, t.kind, t.label, t.text
FROM traces t JOIN samples s ON s.id = t.sample_id ORDER BY s.rowid, t.position;
DROP TABLE traces;
ALTER TABLE traces_by_rowid RENAME TO traces;

-- The full-text index again, with an index of 3-character prefixes: without it a query
-- like `qui*` merges the postings of every term that starts so (0.5-0.9 s at 107K rows).
-- FTS5 then gathers 32 MB of terms in memory before writing a segment (default 1 MB), so a
-- large import writes and merges far fewer segments. Contentless: refilled from samples.
-- Results are listed in file order, never ranked, so no column sizes are kept; removing
-- rows uses FTS5's 'delete' command with the stored texts (cheaper on insert than
-- contentless_delete).
DROP TABLE samples_fts;
CREATE VIRTUAL TABLE samples_fts USING fts5(
    question, solution, traces,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3',
    columnsize = 0
);
INSERT INTO samples_fts (samples_fts, rank) VALUES ('hashsize', 33554432);
INSERT INTO samples_fts (rowid, question, solution, traces)
SELECT s.rowid, s.question, IFNULL(s.solution, ''),
       IFNULL((SELECT group_concat(text, char(10)) FROM
                   (SELECT text FROM traces t WHERE t.sample_id = s.id ORDER BY t.position)), '')
FROM samples s;
