-- The answers of the job that predicts unlabelled documents (user 'dsdc'), by age: the job deletes its own answers that
-- a newer prediction replaced more than Inference:KeepReplacedPredictionsDays ago (an answer replaced that long ago is at
-- least that old), and finds them through this index instead of reading every other user's predictions, which are kept.
CREATE INDEX IF NOT EXISTS predictions_job_created_idx ON inference.predictions (created_at) WHERE user_name = 'dsdc';
