-- Documents a stage started and never finished. A worker counts each start on a document (image or OCR stage) and takes
-- it back at every outcome the process lives to see: stored (the row goes), failed or cancelled (the count goes down).
-- What is left counts the times the process died while on the document: out of memory, a crash in a native library
-- (Leptonica, Tesseract, the PDF renderer), a kill, or a finish that could not be written (the database gone).
-- A document with such a death is tried again only Pipeline:RetryAfterSeconds after its last start, and then alone:
-- no other image or OCR work of its process runs meanwhile, so a death then is most likely its own (unfinished_alone). After
-- Pipeline:MaxAttempts of those the next claim sets it aside as a stage failure with that reason, instead of it taking
-- the worker down at every run. Owned by the Pipeline module.
CREATE TABLE IF NOT EXISTS pipeline.stage_starts (
    document_id       char(40)    NOT NULL REFERENCES ingestion.original_documents (id) ON DELETE CASCADE,
    stage             text        NOT NULL,
    processor_version text        NOT NULL,
    unfinished        integer     NOT NULL DEFAULT 0 CHECK (unfinished >= 0),
    unfinished_alone  integer     NOT NULL DEFAULT 0 CHECK (unfinished_alone >= 0),
    last_started_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, stage, processor_version)
);
