-- The review threshold a prediction was judged against (the served model's: the lowest confidence at which its answers
-- reach the target accuracy; 1 when no confidence does yet, as with few labels), so that the prediction can say why
-- it needs review. NULL for the zero-shot model, which has none, and for predictions recorded before this column.
ALTER TABLE inference.predictions ADD COLUMN IF NOT EXISTS review_threshold double precision;
