-- The answers of the job that predicts unlabelled documents (user 'dsdc'), by age: the job deletes its own answers that
-- a newer one replaced once older than Inference:KeepReplacedPredictionsDays, and finds them through this index instead
-- of reading every prediction a person asked for, which are kept.
CREATE INDEX IF NOT EXISTS predictions_job_created_idx ON inference.predictions (created_at) WHERE user_name = 'dsdc';
