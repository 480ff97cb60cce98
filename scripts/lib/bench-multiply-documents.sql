-- Sourced (\ir) by the benchmarks that need many documents (bench-stored-inputs.sql, bench-review-queue.sql) on a
-- scratch copy of a database: never run it on a database you keep. Needs :copies; leaves the temporary table m
-- (original id, copy id, copy number) for the caller to copy more of each document's rows.
-- COPIES unlabelled copies of every stored document (ids derived from the original's).
CREATE TEMP TABLE m AS
  SELECT d.id AS old, left(md5(d.id || ':' || k) || md5(k || ':' || d.id), 40)::char(40) AS new, k
  FROM ingestion.original_documents d, generate_series(1, :copies) k;
INSERT INTO ingestion.original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingested_at, ingest_state)
  SELECT m.new, d.original_name, d.source_folder, d.file_path || '#' || m.k, d.media_type, d.file_size, d.page_count, d.width, d.height,
         d.ingested_at + m.k * interval '1 minute', 'stored'
  FROM m JOIN ingestion.original_documents d ON d.id = m.old;
