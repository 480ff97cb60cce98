-- Ingestion is a two-step move (row first, then an atomic rename into raw/): 'moving' marks a row whose file may still
-- be in the inbox after a crash; every run finishes those first. Later stages only see 'stored' documents.
ALTER TABLE original_documents
    ADD COLUMN ingest_state text NOT NULL DEFAULT 'stored' CHECK (ingest_state IN ('moving', 'stored'));
CREATE INDEX original_documents_moving_idx ON original_documents (ingest_state) WHERE ingest_state = 'moving';

-- A rejection is recorded once per target folder, so an interrupted rejection can be retried without a duplicate row.
CREATE UNIQUE INDEX rejected_documents_path_idx ON rejected_documents (rejected_path);

-- A document a stage could not process: skipped by that stage's processor version once attempts reach the limit,
-- so one bad document never blocks a batch; a new processor version tries again.
CREATE TABLE stage_failures (
    document_id       char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    stage             text        NOT NULL,
    processor_version text        NOT NULL,
    attempts          integer     NOT NULL DEFAULT 1,
    error             text        NOT NULL,
    last_attempt_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, stage, processor_version)
);
