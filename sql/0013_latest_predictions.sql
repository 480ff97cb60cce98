-- Each document's latest prediction, kept by a trigger as predictions are written, so the review queue reads the few
-- least certain documents of each class through an index instead of ranking every prediction on every page load.
-- The latest is the newest by (created_at, id), the order the queue and the prediction history use.
CREATE TABLE IF NOT EXISTS inference.latest_predictions (
    document_id     char(40)         PRIMARY KEY REFERENCES ingestion.original_documents (id) ON DELETE CASCADE,
    prediction_id   bigint           NOT NULL,
    label           smallint         NOT NULL,
    top_probability double precision NOT NULL,
    needs_review    boolean          NOT NULL,
    created_at      timestamptz      NOT NULL
);
CREATE INDEX IF NOT EXISTS latest_predictions_queue_idx ON inference.latest_predictions (label, top_probability, document_id);

CREATE OR REPLACE FUNCTION inference.keep_latest_prediction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- The latest went: the newest that is left takes its place (none when the document itself is being deleted).
        DELETE FROM inference.latest_predictions WHERE document_id = OLD.document_id AND prediction_id = OLD.id;
        IF FOUND THEN
            INSERT INTO inference.latest_predictions (document_id, prediction_id, label, top_probability, needs_review, created_at)
            SELECT p.document_id, p.id, p.label, p.top_probability, p.needs_review, p.created_at
            FROM inference.predictions p
            WHERE p.document_id = OLD.document_id
            ORDER BY p.created_at DESC, p.id DESC
            LIMIT 1
            ON CONFLICT (document_id) DO NOTHING;
        END IF;
        RETURN NULL;
    END IF;
    -- A new prediction, or a change to one: it becomes (or stays) the latest unless a newer one is there. The upsert
    -- waits for a concurrent writer of the same document and then compares with what that writer committed.
    INSERT INTO inference.latest_predictions AS l (document_id, prediction_id, label, top_probability, needs_review, created_at)
    VALUES (NEW.document_id, NEW.id, NEW.label, NEW.top_probability, NEW.needs_review, NEW.created_at)
    ON CONFLICT (document_id) DO UPDATE
        SET prediction_id = EXCLUDED.prediction_id, label = EXCLUDED.label, top_probability = EXCLUDED.top_probability,
            needs_review = EXCLUDED.needs_review, created_at = EXCLUDED.created_at
        WHERE l.prediction_id = EXCLUDED.prediction_id
           OR (l.created_at, l.prediction_id) < (EXCLUDED.created_at, EXCLUDED.prediction_id);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS predictions_keep_latest ON inference.predictions;
CREATE TRIGGER predictions_keep_latest AFTER INSERT OR UPDATE OR DELETE ON inference.predictions
    FOR EACH ROW EXECUTE FUNCTION inference.keep_latest_prediction();

INSERT INTO inference.latest_predictions (document_id, prediction_id, label, top_probability, needs_review, created_at)
SELECT DISTINCT ON (p.document_id) p.document_id, p.id, p.label, p.top_probability, p.needs_review, p.created_at
FROM inference.predictions p
ORDER BY p.document_id, p.created_at DESC, p.id DESC
ON CONFLICT (document_id) DO NOTHING;
