-- The runs a promotion names, looked up by run: keeping a promoted run's files (training's pruning of old runs asks, for
-- every old run, whether any promotion names it, under the promotions' lock) reads an index instead of the whole table,
-- which grows by a row per job that promotes.
CREATE INDEX IF NOT EXISTS promotions_run_idx ON training.promotions (run_id);
CREATE INDEX IF NOT EXISTS promotions_previous_run_idx ON training.promotions (previous_run_id) WHERE previous_run_id IS NOT NULL;
