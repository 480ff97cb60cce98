-- Documents sent only to be classified (the predict API, the classify page: source folder '.upload') that nobody labelled
-- are deleted once their bytes were last sent longer ago than Ingestion:KeepUnlabelledUploadsDays (off by default).
-- uploaded_at: when a document's bytes were last sent to be classified (set when the upload stores it, and again each time
-- the same bytes are sent); null for documents that never came that way. The retention sweep finds the oldest first.
-- Owned by the Ingestion module.
ALTER TABLE ingestion.original_documents ADD COLUMN IF NOT EXISTS uploaded_at timestamptz;
UPDATE ingestion.original_documents SET uploaded_at = ingested_at WHERE source_folder = '.upload' AND uploaded_at IS NULL;
CREATE INDEX IF NOT EXISTS original_documents_uploads_idx ON ingestion.original_documents (uploaded_at)
    WHERE source_folder = '.upload' AND ingest_state = 'stored';
