-- Files the inbox began to inspect (their format, pages and size decoded: PdfPig, Leptonica) and never finished: a start
-- is counted before the inspection and its row removed after any outcome the process lives to see. What is left counts
-- the times the process died on the file (a stack overflow in the PDF parser, a crash in a native decoder): after three,
-- the file is rejected ('inspection-crashed') instead of taking the ingestion down at every run, and with it every inbox
-- folder that sorts after it. Keyed by the file's SHA-1 (the document is not stored yet). Owned by the Ingestion module.
CREATE TABLE IF NOT EXISTS ingestion.inspection_starts (
    sha1            char(40)    PRIMARY KEY,
    unfinished      integer     NOT NULL DEFAULT 0 CHECK (unfinished >= 0),
    last_started_at timestamptz NOT NULL DEFAULT now()
);
