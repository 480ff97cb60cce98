-- Each module owns its tables in a schema of its own; another module reads them only through the owner's public C#
-- interface or through the views the owner publishes below (its read interface, kept stable when its tables change).
-- SET SCHEMA moves a table with its rows, indexes (the HNSW ones too), constraints, foreign keys and identity sequence;
-- foreign keys from other schemas (training.splits, inference.predictions) follow their target. Nothing is copied.
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE SCHEMA IF NOT EXISTS pipeline;
CREATE SCHEMA IF NOT EXISTS embedding;

ALTER TABLE public.original_documents SET SCHEMA ingestion;
ALTER TABLE public.labels SET SCHEMA ingestion;
ALTER TABLE public.rejected_documents SET SCHEMA ingestion;

ALTER TABLE public.raw_texts SET SCHEMA pipeline;
ALTER TABLE public.processed_texts SET SCHEMA pipeline;
ALTER TABLE public.processed_images SET SCHEMA pipeline;
ALTER TABLE public.stage_failures SET SCHEMA pipeline;

ALTER TABLE public.embeddings SET SCHEMA embedding;
ALTER TABLE public.page_features SET SCHEMA embedding;

-- Ingestion's read interface: the stored documents (a row still being moved into raw/ is not a document yet) ...
CREATE VIEW ingestion.documents AS
    SELECT id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingested_at
    FROM ingestion.original_documents
    WHERE ingest_state = 'stored';

-- ... and each document's current label, the one rule for it: the newest human label wins over the dataset's label
-- (labels accumulate; nothing is overwritten). A filter on document_id reaches labels_document_idx.
CREATE VIEW ingestion.current_labels AS
    SELECT DISTINCT ON (document_id) document_id, label, source, created_by, created_at
    FROM ingestion.labels
    ORDER BY document_id, (source = 'human') DESC, created_at DESC, id DESC;

-- Pipeline's read interface: the processed images and the cleaned texts with the raw text they came from.
CREATE VIEW pipeline.images AS
    SELECT id, document_id, file_path, width, height, processor, processor_version, created_at
    FROM pipeline.processed_images;

CREATE VIEW pipeline.texts AS
    SELECT t.id, t.document_id, t.raw_text_id, t.text, t.processor, t.processor_version, t.created_at, r.text AS raw_text
    FROM pipeline.processed_texts t
    JOIN pipeline.raw_texts r ON r.id = t.raw_text_id;

-- Embedding's read interface: the document vectors and the page features.
CREATE VIEW embedding.vectors AS
    SELECT id, document_id, processed_image_id, processed_text_id, encoder, encoder_version, dimensions, embedding, created_at
    FROM embedding.embeddings;

CREATE VIEW embedding.features AS
    SELECT document_id, kind, version, dimensions, features, created_at
    FROM embedding.page_features;
