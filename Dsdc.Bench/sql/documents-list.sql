-- The documents list (/documents, IngestionQueries.DocumentsAsync) at 100,000 documents: a scratch schema shaped as
-- ingestion.original_documents / ingestion.labels / ingestion.current_labels (the same view rule and indexes), 100,000
-- documents a minute apart, a dataset label on about 80% and a person's label on about 20%. A page of 25 (26 read) as the
-- page asks for it, the previous query (the current label joined as the view, which PostgreSQL turned into a hash join
-- of every current label) against production (each listed document's label read by its own index lookup; the class
-- filter in a query of its own); then the same pages asked for by position (the API's after=, keyset paging) against
-- their offsets. Run against a scratch database, never the product's:
--   psql -h 127.0.0.1 -d SCRATCH -f Dsdc.Bench/sql/documents-list.sql
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS bench_docs CASCADE;
CREATE SCHEMA bench_docs;
SET search_path = bench_docs;
CREATE TABLE documents (id char(40) PRIMARY KEY, original_name text NOT NULL, media_type text NOT NULL, ingested_at timestamptz NOT NULL);
CREATE INDEX ON documents (ingested_at DESC);
CREATE TABLE labels (
    id bigserial PRIMARY KEY, document_id char(40) NOT NULL REFERENCES documents (id), label smallint NOT NULL,
    source text NOT NULL, created_by text, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO documents SELECT md5(g::text) || 'abcdefgh', 'scan_' || g || '.tif', 'image/tiff', now() - g * interval '1 minute'
    FROM generate_series(1, 100000) g;
INSERT INTO labels (document_id, label, source, created_at)
    SELECT id, hashtext(id) & 15, 'dataset', now() - interval '10 days' FROM documents TABLESAMPLE BERNOULLI (80);
INSERT INTO labels (document_id, label, source) SELECT id, (hashtext(id) + 1) & 15, 'human' FROM documents TABLESAMPLE BERNOULLI (20);
CREATE INDEX ON labels (document_id, created_at DESC);
CREATE VIEW current_labels AS
    SELECT DISTINCT ON (document_id) document_id, label, source, created_by, created_at FROM labels
    ORDER BY document_id, (source = 'human') DESC, created_at DESC, id DESC;
ANALYZE labels;
ANALYZE documents;
-- previous: one query, the view joined laterally
PREPARE previous(text, text, int, int, int) AS
    SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source
    FROM documents d
    LEFT JOIN LATERAL (SELECT c.label, c.source FROM current_labels c WHERE c.document_id = d.id) cl ON true
    WHERE ($1::text IS NULL AND $2::text IS NULL AND $3::int IS NULL)
       OR d.id LIKE $1 || '%' OR d.original_name ILIKE '%' || $2 || '%' OR cl.label = $3
    ORDER BY d.ingested_at DESC, d.id
    LIMIT $4 OFFSET $5;
-- production: without a class, the filter reads the documents only and the label is looked up for the listed ones
PREPARE production(text, text, int, int) AS
    SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source
    FROM (SELECT d.id, d.original_name, d.media_type, d.ingested_at FROM documents d
          WHERE ($1::text IS NULL AND $2::text IS NULL) OR d.id LIKE $1 || '%' OR d.original_name ILIKE '%' || $2 || '%'
          ORDER BY d.ingested_at DESC, d.id
          LIMIT $3 OFFSET $4) d
    LEFT JOIN LATERAL (SELECT c.label, c.source FROM current_labels c WHERE c.document_id = d.id LIMIT 1) cl ON true
    ORDER BY d.ingested_at DESC, d.id;
-- production with a class (the search is also matched as a name)
PREPARE production_class(text, int, int, int) AS
    SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source
    FROM documents d
    LEFT JOIN LATERAL (SELECT c.label, c.source FROM current_labels c WHERE c.document_id = d.id LIMIT 1) cl ON true
    WHERE cl.label = $2 OR d.original_name ILIKE '%' || $1 || '%'
    ORDER BY d.ingested_at DESC, d.id
    LIMIT $3 OFFSET $4;
-- by position: the documents after the last one a client was given (IngestionQueries' afterPosition)
PREPARE production_after(text, text, int, timestamptz, text) AS
    SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source
    FROM (SELECT d.id, d.original_name, d.media_type, d.ingested_at FROM documents d
          WHERE (($1::text IS NULL AND $2::text IS NULL) OR d.id LIKE $1 || '%' OR d.original_name ILIKE '%' || $2 || '%')
            AND ($4::timestamptz IS NULL OR (d.ingested_at <= $4 AND (d.ingested_at < $4 OR d.id > $5)))
          ORDER BY d.ingested_at DESC, d.id
          LIMIT $3) d
    LEFT JOIN LATERAL (SELECT c.label, c.source FROM current_labels c WHERE c.document_id = d.id LIMIT 1) cl ON true
    ORDER BY d.ingested_at DESC, d.id;
PREPARE production_class_after(text, int, int, timestamptz, text) AS
    SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source
    FROM documents d
    LEFT JOIN LATERAL (SELECT c.label, c.source FROM current_labels c WHERE c.document_id = d.id LIMIT 1) cl ON true
    WHERE (cl.label = $2 OR d.original_name ILIKE '%' || $1 || '%')
      AND ($4::timestamptz IS NULL OR (d.ingested_at <= $4 AND (d.ingested_at < $4 OR d.id > $5)))
    ORDER BY d.ingested_at DESC, d.id
    LIMIT $3;
\timing on
\echo '== page 1, no search: previous, production, previous, production'
EXECUTE previous(NULL, NULL, NULL, 26, 0) \g /dev/null
EXECUTE production(NULL, NULL, 26, 0) \g /dev/null
EXECUTE previous(NULL, NULL, NULL, 26, 0) \g /dev/null
EXECUTE production(NULL, NULL, 26, 0) \g /dev/null
\echo '== page 100, no search: previous, production'
EXECUTE previous(NULL, NULL, NULL, 26, 2475) \g /dev/null
EXECUTE production(NULL, NULL, 26, 2475) \g /dev/null
\echo '== page 4000 (the last), no search: previous, production'
EXECUTE previous(NULL, NULL, NULL, 26, 99975) \g /dev/null
EXECUTE production(NULL, NULL, 26, 99975) \g /dev/null
\echo '== a class, page 1: previous, production, previous, production'
EXECUTE previous(NULL, 'memo', 3, 26, 0) \g /dev/null
EXECUTE production_class('memo', 3, 26, 0) \g /dev/null
EXECUTE previous(NULL, 'memo', 3, 26, 0) \g /dev/null
EXECUTE production_class('memo', 3, 26, 0) \g /dev/null
\echo '== a class, page 100: previous, production'
EXECUTE previous(NULL, 'memo', 3, 26, 2475) \g /dev/null
EXECUTE production_class('memo', 3, 26, 2475) \g /dev/null
\echo '== part of a name (11 matches): previous, production, previous, production'
EXECUTE previous(NULL, 'scan_9999', NULL, 26, 0) \g /dev/null
EXECUTE production(NULL, 'scan_9999', 26, 0) \g /dev/null
EXECUTE previous(NULL, 'scan_9999', NULL, 26, 0) \g /dev/null
EXECUTE production(NULL, 'scan_9999', 26, 0) \g /dev/null
\echo '== an id prefix: previous, production'
EXECUTE previous('c4ca', 'c4ca', NULL, 26, 0) \g /dev/null
EXECUTE production('c4ca', 'c4ca', 26, 0) \g /dev/null
\echo '== page 100, no search, by offset and by position (page 99 last document): offset, position, offset, position'
\timing off
EXECUTE production(NULL, NULL, 1, 2474) \gset p100_
\timing on
EXECUTE production(NULL, NULL, 26, 2475) \g /dev/null
EXECUTE production_after(NULL, NULL, 26, :'p100_ingested_at', :'p100_id') \g /dev/null
EXECUTE production(NULL, NULL, 26, 2475) \g /dev/null
EXECUTE production_after(NULL, NULL, 26, :'p100_ingested_at', :'p100_id') \g /dev/null
\echo '== page 4000 (the last), no search: offset, position, offset, position'
\timing off
EXECUTE production(NULL, NULL, 1, 99974) \gset p4000_
\timing on
EXECUTE production(NULL, NULL, 26, 99975) \g /dev/null
EXECUTE production_after(NULL, NULL, 26, :'p4000_ingested_at', :'p4000_id') \g /dev/null
EXECUTE production(NULL, NULL, 26, 99975) \g /dev/null
EXECUTE production_after(NULL, NULL, 26, :'p4000_ingested_at', :'p4000_id') \g /dev/null
\echo '== a class, page 100: offset, position, offset, position'
\timing off
EXECUTE production_class('memo', 3, 1, 2474) \gset c100_
\timing on
EXECUTE production_class('memo', 3, 26, 2475) \g /dev/null
EXECUTE production_class_after('memo', 3, 26, :'c100_ingested_at', :'c100_id') \g /dev/null
EXECUTE production_class('memo', 3, 26, 2475) \g /dev/null
EXECUTE production_class_after('memo', 3, 26, :'c100_ingested_at', :'c100_id') \g /dev/null
\timing off
\echo '== each page by position is its page by offset (page 100, page 4000, a class page 100): rows in one and not the other, of 26'
CREATE TEMP TABLE o1 AS EXECUTE production(NULL, NULL, 26, 2475);
CREATE TEMP TABLE p1 AS EXECUTE production_after(NULL, NULL, 26, :'p100_ingested_at', :'p100_id');
CREATE TEMP TABLE o2 AS EXECUTE production(NULL, NULL, 26, 99975);
CREATE TEMP TABLE p2 AS EXECUTE production_after(NULL, NULL, 26, :'p4000_ingested_at', :'p4000_id');
CREATE TEMP TABLE o3 AS EXECUTE production_class('memo', 3, 26, 2475);
CREATE TEMP TABLE p3 AS EXECUTE production_class_after('memo', 3, 26, :'c100_ingested_at', :'c100_id');
SELECT (SELECT count(*) FROM ((TABLE o1 EXCEPT ALL TABLE p1) UNION ALL (TABLE p1 EXCEPT ALL TABLE o1)) x) AS page_100,
       (SELECT count(*) FROM ((TABLE o2 EXCEPT ALL TABLE p2) UNION ALL (TABLE p2 EXCEPT ALL TABLE o2)) x) AS page_4000,
       (SELECT count(*) FROM ((TABLE o3 EXCEPT ALL TABLE p3) UNION ALL (TABLE p3 EXCEPT ALL TABLE o3)) x) AS class_page_100,
       (SELECT count(*) FROM o1) + (SELECT count(*) FROM o2) + (SELECT count(*) FROM o3) AS rows_compared;
DROP TABLE o1, p1, o2, p2, o3, p3;
DROP SCHEMA bench_docs CASCADE;
