-- Documents a stage started and never finished: the counter goes up when a worker starts on a document (image or OCR
-- stage) and down when that start ends in any way the process lives to see (stored, failed, cancelled, the database
-- gone). What is left counts the times the process died while on the document: out of memory, a crash in a native
-- library (Leptonica, Tesseract, the PDF renderer), a kill. Such a document is then worked on alone, so a crash is not
-- charged to the documents beside it, and after Pipeline:MaxAttempts such deaths it is set aside as a stage failure
-- with that reason, instead of taking the worker down at every run. Owned by the Pipeline module.
CREATE TABLE IF NOT EXISTS pipeline.stage_starts (
    document_id       char(40)    NOT NULL REFERENCES ingestion.original_documents (id) ON DELETE CASCADE,
    stage             text        NOT NULL,
    processor_version text        NOT NULL,
    unfinished        integer     NOT NULL DEFAULT 1 CHECK (unfinished >= 0),
    last_started_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, stage, processor_version)
);
