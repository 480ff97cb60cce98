-- What each model was fitted on, document by document: a training set is recorded once (keyed by a hash of every
-- document, label and stored vector id in it) however many runs fitted on it, and each run names its set
-- (training.runs.dataset_id). A row gives the document, the label it was trained with and the vector it read
-- (embedding.vectors.id, whose row names the processed text and page it was made from, and through them the raw OCR
-- readings and the original file), with whether its region features (of regions_version) were there. About 150 bytes
-- per document and set, written only by a job that trains. No foreign key reaches another module's tables: the record
-- stays whatever becomes of the documents. Owned by the Training module.
CREATE TABLE IF NOT EXISTS training.datasets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key             text        NOT NULL UNIQUE,
    fingerprint     text        NOT NULL,        -- the runs' data fingerprint: documents, labels and input contents
    documents       integer     NOT NULL,
    encoder         text        NOT NULL,
    encoder_version text        NOT NULL,
    regions_version text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS training.dataset_documents (
    dataset_id   bigint   NOT NULL REFERENCES training.datasets (id) ON DELETE CASCADE,
    document_id  char(40) NOT NULL,
    label        smallint NOT NULL CHECK (label BETWEEN 0 AND 15),
    vector_id    bigint   NOT NULL,
    has_regions  boolean  NOT NULL,
    PRIMARY KEY (dataset_id, document_id)
);

-- NULL for a run that failed or that a version before training sets were recorded trained.
ALTER TABLE training.runs ADD COLUMN IF NOT EXISTS dataset_id bigint REFERENCES training.datasets (id);
