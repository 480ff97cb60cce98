-- The class a person gave with an upload, from before its file enters the inbox until its inbox entry is ingested
-- (stored, a duplicate, rejected): an entry deferred (PDFs cannot be read for now) or left in the inbox by a process that
-- stopped midway is ingested by a later run with that class and who gave it, as the upload itself would have. Keyed by
-- the entry's inbox folder (upload-<batch>-<NNNN>, never used twice). A row whose folder has left the inbox is removed
-- by a later run. Owned by the Ingestion module.
CREATE TABLE IF NOT EXISTS ingestion.upload_labels (
    folder      text        PRIMARY KEY,
    label       smallint    NOT NULL CHECK (label BETWEEN 0 AND 15),
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
