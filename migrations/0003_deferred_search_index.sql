-- An import writes samples and traces only; the full-text index is built after it commits,
-- a chunk of rows per transaction (tokenizing and indexing 6 KB traces took two thirds
-- of an import). `indexed_rows` counts the dataset's rows, from `first_rowid` on, that
-- are in the index; a search sees those. Files from before were indexed at import time.
ALTER TABLE datasets ADD COLUMN indexed_rows INTEGER NOT NULL DEFAULT 0;
UPDATE datasets SET indexed_rows = rows;
