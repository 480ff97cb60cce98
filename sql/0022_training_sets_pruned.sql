-- A recorded training set goes with the model files of the runs fitted on it (Training:KeepRunFiles): once none of its
-- runs keeps its files (a run ever promoted always does), the set is removed with them, and those runs' dataset_id
-- becomes NULL; a set no run names is removed a day after it was recorded (a job that stopped before its runs).
-- Otherwise every job that trains on changed labels would add a row per labelled document for good.
ALTER TABLE training.runs DROP CONSTRAINT IF EXISTS runs_dataset_id_fkey;
ALTER TABLE training.runs ADD CONSTRAINT runs_dataset_id_fkey
    FOREIGN KEY (dataset_id) REFERENCES training.datasets (id) ON DELETE SET NULL;
