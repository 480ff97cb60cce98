-- The cost of reading which classes have a labelled document (LabelledClasses, serving's mask of classes that lost
-- their last label) at 100,000 documents: a scratch schema shaped as ingestion.original_documents / ingestion.labels /
-- ingestion.current_labels (the same view rule and index), 100,000 documents with a dataset label each and a human
-- correction on a fifth of them. Two ways to ask: the one serving uses (every current label, DISTINCT ON) and one
-- EXISTS per class. Run against a scratch database, never the product's:
--   psql -h 127.0.0.1 -d SCRATCH -f Dsdc.Bench/sql/labelled-classes.sql
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS bench_labels CASCADE;
CREATE SCHEMA bench_labels;
SET search_path = bench_labels;
CREATE TABLE documents (id char(40) PRIMARY KEY);
CREATE TABLE labels (
    id bigserial PRIMARY KEY, document_id char(40) NOT NULL REFERENCES documents (id), label smallint NOT NULL,
    source text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO documents SELECT md5(g::text) || 'abcdefgh' FROM generate_series(1, 100000) g;
INSERT INTO labels (document_id, label, source, created_at)
    SELECT id, hashtext(id) & 15, 'dataset', now() - interval '10 days' FROM documents;
INSERT INTO labels (document_id, label, source) SELECT id, (hashtext(id) + 1) & 15, 'human' FROM documents TABLESAMPLE BERNOULLI (20);
CREATE INDEX ON labels (document_id, created_at DESC);
CREATE VIEW current_labels AS
    SELECT DISTINCT ON (document_id) document_id, label, source, created_at FROM labels
    ORDER BY document_id, (source = 'human') DESC, created_at DESC, id DESC;
ANALYZE labels;
ANALYZE documents;
\timing on
\echo 'every current label (what serving reads), three times:'
SELECT DISTINCT l.label FROM current_labels l JOIN documents d ON d.id = l.document_id \g /dev/null
SELECT DISTINCT l.label FROM current_labels l JOIN documents d ON d.id = l.document_id \g /dev/null
SELECT DISTINCT l.label FROM current_labels l JOIN documents d ON d.id = l.document_id \g /dev/null
\echo 'one EXISTS per class:'
SELECT c FROM generate_series(0, 15) c WHERE EXISTS (
    SELECT 1 FROM labels l JOIN documents d ON d.id = l.document_id
    WHERE l.label = c AND NOT EXISTS (
        SELECT 1 FROM labels n WHERE n.document_id = l.document_id
          AND ((n.source = 'human') > (l.source = 'human')
               OR ((n.source = 'human') = (l.source = 'human') AND (n.created_at, n.id) > (l.created_at, l.id))))) \g /dev/null
\timing off
DROP SCHEMA bench_labels CASCADE;
