-- The retention sweep of documents sent only to be classified (DocumentStore.ExpiredUploadsAsync,
-- Ingestion:KeepUnlabelledUploadsDays = 30) at 100,000 documents: temporary tables shaped as ingestion.original_documents,
-- ingestion.labels and ingestion.rejected_documents (with the partial index of sql/0028 and the labels' and refusals'
-- indexes). 80,000 inbox documents, all labelled; 20,000 uploads sent 0-360 days ago, half of them labelled, 500 of them
-- refused once as an inbox duplicate. First a sweep that finds a full batch (500) among about 9,000 expired uploads,
-- then one where every expired upload is labelled (nothing to delete: the steady state), then one with nothing older
-- than the days kept. Everything is rolled back:
--
--   psql -h 127.0.0.1 -d ANY_DSDC_DATABASE -f Dsdc.Bench/sql/upload-retention.sql
\set ON_ERROR_STOP 1
BEGIN;
CREATE TEMP TABLE od (LIKE ingestion.original_documents INCLUDING DEFAULTS) ON COMMIT DROP;
ALTER TABLE od ADD PRIMARY KEY (id);
CREATE INDEX ON od (uploaded_at) WHERE source_folder = '.upload' AND ingest_state = 'stored';
CREATE TEMP TABLE lb (LIKE ingestion.labels INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE INDEX ON lb (document_id, created_at DESC);
CREATE TEMP TABLE rj (LIKE ingestion.rejected_documents INCLUDING DEFAULTS) ON COMMIT DROP;
CREATE INDEX ON rj (sha1) WHERE sha1 IS NOT NULL;
INSERT INTO od (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingest_state,
                ingested_at, uploaded_at)
SELECT lpad(to_hex(i), 40, '0'), 'p' || i || '.png', CASE WHEN i % 5 = 0 THEN '.upload' ELSE 'scans' END, 'raw/x/' || i || '.png',
       'image/png', 1000, 1, 800, 1000, 'stored', now() - (i % 365) * interval '1 day',
       CASE WHEN i % 5 = 0 THEN now() - (i % 365) * interval '1 day' END
FROM generate_series(1, 100000) i;
INSERT INTO lb (id, document_id, label, source, created_by, created_at)
SELECT row_number() OVER (), id, 3, 'human', 'someone', now() FROM od
WHERE source_folder = 'scans' OR ('x' || right(id, 6))::bit(24)::int % 2 = 0;
INSERT INTO rj (id, source_folder, file_name, sha1, reason_code, reason, rejected_path, rejected_at)
SELECT row_number() OVER (), 'scans', 'd.png', id, 'duplicate', 'dup', 'rejected/' || id, now() FROM od WHERE source_folder = '.upload' LIMIT 500;
ANALYZE od; ANALYZE lb; ANALYZE rj;
-- The production query (DocumentStore.ExpiredUploadsAsync) on these tables.
PREPARE sweep(int) AS
SELECT d.id FROM od d
WHERE d.source_folder = '.upload' AND d.ingest_state = 'stored'
  AND d.uploaded_at < now() - make_interval(days => $1)
  AND NOT EXISTS (SELECT 1 FROM lb l WHERE l.document_id = d.id)
  AND NOT EXISTS (SELECT 1 FROM rj r WHERE r.sha1 = d.id)
ORDER BY d.uploaded_at
LIMIT 500;
\timing on
\echo 'a full batch to delete (30 days kept):'
EXECUTE sweep(30) \g /dev/null
\echo 'nothing older than the days kept (3650 days):'
EXECUTE sweep(3650) \g /dev/null
DELETE FROM od d WHERE d.source_folder = '.upload' AND NOT EXISTS (SELECT 1 FROM lb l WHERE l.document_id = d.id);
ANALYZE od;
\echo 'the steady state: every expired upload labelled (30 days kept):'
EXECUTE sweep(30) \g /dev/null
ROLLBACK;
