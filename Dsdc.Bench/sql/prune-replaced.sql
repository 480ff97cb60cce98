-- Deleting the replaced answers of the job that predicts unlabelled documents (NewDocumentPredictions.PruneReplacedSql,
-- Inference:KeepReplacedPredictionsDays = 30) at 100,000 unlabelled documents: a temporary table shaped as
-- inference.predictions (its indexes and the partial index of sql/0025; not its latest-prediction trigger), three
-- answers per document from three champions, 60, 50 and 40 days ago. First a run with a backlog (5,000 deleted), then
-- the steady state where every replaced answer is gone and each document's latest answer is older than the days kept,
-- which the query walks without deleting any. Everything is rolled back:
--
--   psql -h 127.0.0.1 -d ANY_DSDC_DATABASE -f Dsdc.Bench/sql/prune-replaced.sql
\set ON_ERROR_STOP 1
BEGIN;
CREATE TEMP TABLE p (LIKE inference.predictions INCLUDING DEFAULTS) ON COMMIT DROP;
ALTER TABLE p ADD PRIMARY KEY (id);
CREATE INDEX ON p (document_id, created_at DESC);
CREATE INDEX ON p (created_at DESC);
CREATE INDEX ON p (created_at) WHERE user_name = 'dsdc';
INSERT INTO p (id, document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities,
               duration_ms, needs_review, review_threshold, created_at)
SELECT d * 3 + k, md5(d::text) || 'abcdefgh', 'dsdc', k, 'run-' || k, d % 16, 0.5, 0.5,
       ARRAY[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.1,0.2,0.3,0.4,0.5,0.6,0.7]::real[], 5, true, 0.8,
       now() - make_interval(days => 60 - 10 * k)
FROM generate_series(1, 100000) d, generate_series(0, 2) k;
ANALYZE p;
SELECT pg_size_pretty(pg_total_relation_size('p')) AS "300,000 rows with their indexes",
       pg_total_relation_size('p') / 300000 AS "bytes a row";
-- The production query (NewDocumentPredictions.PruneReplacedSql) on this table, 30 days kept.
PREPARE prune AS
DELETE FROM p
WHERE id = ANY(ARRAY(SELECT q.id FROM p q
                     WHERE q.user_name = 'dsdc' AND q.created_at < now() - make_interval(days => 30)
                       AND EXISTS (SELECT 1 FROM p n
                                   WHERE n.document_id = q.document_id AND (n.created_at, n.id) > (q.created_at, q.id)
                                     AND n.created_at < now() - make_interval(days => 30))
                     ORDER BY q.created_at
                     LIMIT 5000));
\timing on
-- A run with a backlog: 5,000 deleted.
EXPLAIN (ANALYZE, SUMMARY ON) EXECUTE prune;
\timing off
DELETE FROM p WHERE id % 3 <> 2;
ANALYZE p;
\timing on
-- The steady state: nothing to delete, 100,000 latest answers older than 30 days walked.
EXPLAIN (ANALYZE, SUMMARY ON) EXECUTE prune;
ROLLBACK;
