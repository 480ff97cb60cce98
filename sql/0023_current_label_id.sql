-- The current label's own row id, appended to Ingestion's read interface (CREATE OR REPLACE VIEW may only add columns at
-- the end). Label rows are never updated, so the id names one version of a document's label: the API's ETag of a label
-- (If-Match on a correction) is built from it, where the moment it was written could be shared by two labels.
CREATE OR REPLACE VIEW ingestion.current_labels AS
    SELECT DISTINCT ON (document_id) document_id, label, source, created_by, created_at, id
    FROM ingestion.labels
    ORDER BY document_id, (source = 'human') DESC, created_at DESC, id DESC;
