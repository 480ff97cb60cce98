-- Used by scripts/bench-review-queue.sh on a scratch copy of a database: never run it on a database you keep.
\ir bench-multiply-documents.sql
-- Every unlabelled document predicted an hour ago (class and confidence from its id, review below 0.67), and half of
-- them predicted again since by a retrained model: the history a few months of the new-document job leave.
INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review, created_at)
  SELECT d.id, 'dsdc', 'bench-first', abs(hashtext(d.id)) % 16, x.p, x.p, array_fill(0.05::real, ARRAY[16]), 1, x.p < 0.67, now() - interval '1 hour'
  FROM ingestion.documents d CROSS JOIN LATERAL (SELECT (abs(hashtext(d.id || 'p')) % 1000) / 1000.0 AS p) x
  WHERE NOT EXISTS (SELECT 1 FROM ingestion.current_labels l WHERE l.document_id = d.id);
INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
  SELECT document_id, 'dsdc', 'bench-second', label, top_probability, top_probability, probabilities, 1, needs_review
  FROM inference.predictions WHERE model_id = 'bench-first' AND abs(hashtext(document_id)) % 2 = 0;
VACUUM ANALYZE;
