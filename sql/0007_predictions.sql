-- Every prediction served (who, when, which model, which document) and what it answered.
CREATE SCHEMA IF NOT EXISTS inference;

CREATE TABLE IF NOT EXISTS inference.predictions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id     char(40)         NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    user_name       text             NOT NULL,
    model_run_id    bigint           NOT NULL,
    model_id        text             NOT NULL,
    label           smallint         NOT NULL CHECK (label BETWEEN 0 AND 15),
    confidence      double precision NOT NULL,
    top_probability double precision NOT NULL,
    probabilities   real[]           NOT NULL,
    duration_ms     integer          NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS predictions_document_idx ON inference.predictions (document_id, created_at DESC);
CREATE INDEX IF NOT EXISTS predictions_created_idx ON inference.predictions (created_at DESC);
