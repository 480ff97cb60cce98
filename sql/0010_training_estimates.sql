-- Model selection by repeated cross-validation while data is small: a run records how it was evaluated and the
-- spread of its estimate (the whole estimate, with its accuracy-coverage curve, as JSON); a job records what it
-- trained on (a fingerprint of documents, labels, encoders and candidates) so that the recurring job skips when
-- nothing changed.
ALTER TABLE training.runs ADD COLUMN IF NOT EXISTS evaluation text NOT NULL DEFAULT 'test-split'
    CHECK (evaluation IN ('test-split', 'cross-validation'));
ALTER TABLE training.runs ADD COLUMN IF NOT EXISTS accuracy_sd double precision;
ALTER TABLE training.runs ADD COLUMN IF NOT EXISTS macro_f1_sd double precision;
ALTER TABLE training.runs ADD COLUMN IF NOT EXISTS estimate jsonb;
-- What the run's model was fitted on (documents, labels, encoders): a champion is refitted only when it changed.
ALTER TABLE training.runs ADD COLUMN IF NOT EXISTS data_fingerprint text;

CREATE TABLE IF NOT EXISTS training.jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint  text        NOT NULL,
    documents    integer     NOT NULL,
    triggered_by text        NOT NULL,
    outcome      text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobs_started_idx ON training.jobs (id DESC);
