-- The page read again in other page segmentation modes (Ocr:ExtraReadings): the readings follow one another, each
-- with its pages separated by form feeds. NULL for a PDF's own text layer and where no extra reading is configured.
-- The classifier's text view reads the main text and these together; the main text stays the document's text.
-- Owned by the Pipeline module; read by the others through pipeline.texts.
ALTER TABLE pipeline.raw_texts ADD COLUMN readings text;

CREATE OR REPLACE VIEW pipeline.texts AS
    SELECT t.id, t.document_id, t.raw_text_id, t.text, t.processor, t.processor_version, t.created_at, r.text AS raw_text,
           r.readings AS raw_readings
    FROM pipeline.processed_texts t
    JOIN pipeline.raw_texts r ON r.id = t.raw_text_id;
