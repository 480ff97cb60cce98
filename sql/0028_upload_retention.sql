-- Documents sent only to be classified (the predict API, the classify page: source folder '.upload') that nobody labelled
-- are deleted once older than Ingestion:KeepUnlabelledUploadsDays (off by default); the retention sweep finds the oldest
-- of them first. Owned by the Ingestion module.
CREATE INDEX IF NOT EXISTS original_documents_uploads_idx ON ingestion.original_documents (ingested_at)
    WHERE source_folder = '.upload' AND ingest_state = 'stored';
