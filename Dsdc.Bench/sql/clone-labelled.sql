-- Copies every labelled, ingested document of a SCRATCH database :copies times, each copy a document of its own (new
-- id, source folder clone-K) with its dataset label, OCR texts, processed page row, vectors and region features, so that
-- a training job can be measured at many times the labelled documents without ingesting them (docs/benchmarks.md,
-- "Training job cost"). The copies' inputs are those of their originals; the page files are not copied (a job whose
-- candidates read no layout opens none). Run once on a database holding the ingested corpus and nothing else:
--
--   psql -h 127.0.0.1 -d SCRATCH -v copies=99 -f Dsdc.Bench/sql/clone-labelled.sql
--
-- and again with -v first=100 -v copies=399 to add copies 100 to 399.
-- Never on a database in use: the copies take identity values far above the sequences' (original id + K x 10^7).
\set ON_ERROR_STOP 1
\if :{?first}
\else
\set first 1
\endif
BEGIN;

CREATE TEMP TABLE clone_map ON COMMIT DROP AS
SELECT k, o.id AS old_id, substr(encode(sha256(convert_to(k || ':' || o.id, 'UTF8')), 'hex'), 1, 40)::char(40) AS new_id
FROM ingestion.original_documents o
CROSS JOIN generate_series(:first, :copies) k
WHERE o.source_folder NOT LIKE 'clone-%' AND EXISTS (SELECT 1 FROM ingestion.labels l WHERE l.document_id = o.id);

-- Every column copied as it is (through jsonb, whatever columns later migrations added), the keys replaced.
INSERT INTO ingestion.original_documents
SELECT (jsonb_populate_record(NULL::ingestion.original_documents, to_jsonb(o)
        || jsonb_build_object('id', c.new_id, 'file_path', o.file_path || '.clone-' || c.k, 'source_folder', 'clone-' || c.k))).*
FROM ingestion.original_documents o JOIN clone_map c ON c.old_id = o.id;

INSERT INTO ingestion.labels (document_id, label, source, created_by, created_at)
SELECT c.new_id, l.label, l.source, l.created_by, l.created_at
FROM ingestion.labels l JOIN clone_map c ON c.old_id = l.document_id;

INSERT INTO pipeline.raw_texts OVERRIDING SYSTEM VALUE
SELECT (jsonb_populate_record(NULL::pipeline.raw_texts, to_jsonb(r)
        || jsonb_build_object('id', r.id + c.k::bigint * 10000000, 'document_id', c.new_id))).*
FROM pipeline.raw_texts r JOIN clone_map c ON c.old_id = r.document_id;

INSERT INTO pipeline.processed_texts OVERRIDING SYSTEM VALUE
SELECT (jsonb_populate_record(NULL::pipeline.processed_texts, to_jsonb(t)
        || jsonb_build_object('id', t.id + c.k::bigint * 10000000, 'raw_text_id', t.raw_text_id + c.k::bigint * 10000000, 'document_id', c.new_id))).*
FROM pipeline.processed_texts t JOIN clone_map c ON c.old_id = t.document_id;

INSERT INTO pipeline.processed_images OVERRIDING SYSTEM VALUE
SELECT (jsonb_populate_record(NULL::pipeline.processed_images, to_jsonb(i)
        || jsonb_build_object('id', i.id + c.k::bigint * 10000000, 'document_id', c.new_id))).*
FROM pipeline.processed_images i JOIN clone_map c ON c.old_id = i.document_id;

INSERT INTO embedding.embeddings OVERRIDING SYSTEM VALUE
SELECT (jsonb_populate_record(NULL::embedding.embeddings, to_jsonb(e)
        || jsonb_build_object('id', e.id + c.k::bigint * 10000000, 'document_id', c.new_id,
                              'processed_image_id', e.processed_image_id + c.k::bigint * 10000000,
                              'processed_text_id', e.processed_text_id + c.k::bigint * 10000000))).*
FROM embedding.embeddings e JOIN clone_map c ON c.old_id = e.document_id;

INSERT INTO embedding.page_features
SELECT (jsonb_populate_record(NULL::embedding.page_features, to_jsonb(f) || jsonb_build_object('document_id', c.new_id))).*
FROM embedding.page_features f JOIN clone_map c ON c.old_id = f.document_id;

SELECT count(*) AS labelled_documents FROM ingestion.current_labels;
COMMIT;
ANALYZE ingestion.original_documents, ingestion.labels, pipeline.raw_texts, pipeline.processed_texts, pipeline.processed_images,
    embedding.embeddings, embedding.page_features;
