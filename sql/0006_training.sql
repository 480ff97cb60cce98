-- Training owns schema "training": the stored data split, runs with their per-epoch and test metrics, and the model
-- registry (the champion is the newest promotion; every promotion and rollback is kept, with who, when and why).
CREATE SCHEMA IF NOT EXISTS training;

-- One side per document, assigned once: new documents are assigned as they arrive, old ones never move, so every run
-- is tested on the same documents (the original drew a fresh random split each time, so runs could not be compared).
CREATE TABLE IF NOT EXISTS training.splits (
    document_id char(40)    PRIMARY KEY REFERENCES original_documents (id) ON DELETE CASCADE,
    side        text        NOT NULL CHECK (side IN ('train', 'validation', 'test')),
    label       smallint    NOT NULL CHECK (label BETWEEN 0 AND 15),   -- the label when assigned (stratification)
    seed        integer     NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS splits_side_idx ON training.splits (side);

CREATE TABLE IF NOT EXISTS training.runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text        NOT NULL,                 -- mlp12, mlp9, mlp11, random-3...
    parameters       jsonb       NOT NULL,                 -- the original's format: layers + learning_rate
    encoder          text        NOT NULL,
    encoder_version  text        NOT NULL,
    dimensions       integer     NOT NULL,
    seed             integer     NOT NULL,
    device           text        NOT NULL,
    train_size       integer     NOT NULL,
    validation_size  integer     NOT NULL,
    test_size        integer     NOT NULL,
    status           text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    error            text,
    epochs_run       integer,
    best_epoch       integer,
    test_accuracy    double precision,
    test_macro_f1    double precision,
    test_loss        double precision,
    metrics          jsonb,                                -- per-class precision/recall/F1/support, confusion matrix
    artifact_path    text,                                 -- relative to the models folder: runs/<id>/model.onnx
    triggered_by     text        NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    duration_ms      bigint
);
CREATE INDEX IF NOT EXISTS runs_started_idx ON training.runs (started_at DESC);

CREATE TABLE IF NOT EXISTS training.epochs (
    run_id              bigint           NOT NULL REFERENCES training.runs (id) ON DELETE CASCADE,
    epoch               integer          NOT NULL,
    train_loss          double precision NOT NULL,
    train_accuracy      double precision NOT NULL,
    validation_loss     double precision,
    validation_accuracy double precision,
    duration_ms         double precision NOT NULL,
    PRIMARY KEY (run_id, epoch)
);

CREATE TABLE IF NOT EXISTS training.promotions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              bigint      NOT NULL REFERENCES training.runs (id),
    previous_run_id     bigint      REFERENCES training.runs (id),
    kind                text        NOT NULL CHECK (kind IN ('automatic', 'manual', 'rollback')),
    reason              text        NOT NULL,
    promoted_by         text        NOT NULL,
    promoted_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS promotions_newest_idx ON training.promotions (promoted_at DESC, id DESC);
