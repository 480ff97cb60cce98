-- A prediction says whether it needs a person's review (its calibrated confidence is below the served model's
-- threshold, or no trained model existed and the zero-shot model answered: then it names no training run).
ALTER TABLE inference.predictions ALTER COLUMN model_run_id DROP NOT NULL;
ALTER TABLE inference.predictions ADD COLUMN IF NOT EXISTS needs_review boolean NOT NULL DEFAULT false;
