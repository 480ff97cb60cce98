-- Features the embedding stage could not compute for a document: its region features (kind 'regions': the stored
-- original unreadable, a PDF page that does not render) or its encoder vector (kind 'vector:<encoder>', version
-- '<encoder version>/<processed image id>': the processed image unreadable). How many times it tried and why. After 3
-- failures of a (kind, version) the stage stops trying, and training leaves the document out instead of waiting for
-- region features that will never come (a champion that reads them would otherwise be kept, unrefitted, for good).
-- A document whose file is restored is tried again once its row is deleted.
CREATE TABLE IF NOT EXISTS embedding.page_feature_failures (
    document_id char(40)    NOT NULL REFERENCES ingestion.original_documents (id) ON DELETE CASCADE,
    kind        text        NOT NULL,
    version     text        NOT NULL,
    attempts    integer     NOT NULL DEFAULT 1 CHECK (attempts > 0),
    error       text        NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, kind, version)
);

-- Embedding's read interface for them: the features it gave up on (the one place that says after how many failures).
CREATE OR REPLACE VIEW embedding.features_given_up AS
    SELECT document_id, kind, version, attempts, error, failed_at
    FROM embedding.page_feature_failures
    WHERE attempts >= 3;
