-- Deleting a stored document (DELETE /api/v1/documents/{id}, the document's page): its row turns 'deleting', which hides
-- it from every reader at once (ingestion.documents lists 'stored' rows only) and keeps its id taken while its files (the
-- original in raw/, its processed pages) are removed; then the row goes, and with it everything derived from it (labels,
-- split, texts, pages, vectors, features, predictions: ON DELETE CASCADE). A deletion a crash interrupted is finished by
-- the next ingestion run. The training sets' records (training.dataset_documents) keep the id: they say what a model
-- was fitted on, whatever became of the document. Owned by the Ingestion module.
ALTER TABLE ingestion.original_documents DROP CONSTRAINT IF EXISTS original_documents_ingest_state_check;
ALTER TABLE ingestion.original_documents
    ADD CONSTRAINT original_documents_ingest_state_check CHECK (ingest_state IN ('moving', 'stored', 'deleting'));
CREATE INDEX IF NOT EXISTS original_documents_deleting_idx ON ingestion.original_documents (ingest_state)
    WHERE ingest_state = 'deleting';

-- Who deleted which document and when: the id (the SHA-1 of its content) only, no name or text of it.
CREATE TABLE IF NOT EXISTS ingestion.deletions (
    document_id  char(40)    NOT NULL,
    deleted_by   text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
-- The inbox entries refused with a copy of a document's bytes, found by its id when it is deleted.
CREATE INDEX IF NOT EXISTS rejected_documents_sha1_idx ON ingestion.rejected_documents (sha1) WHERE sha1 IS NOT NULL;

CREATE INDEX IF NOT EXISTS deletions_document_idx ON ingestion.deletions (document_id, requested_at DESC);
