-- A PDF whose text layer maps a glyph to U+0000 could never get its text stored (PostgreSQL's text cannot hold it:
-- error 22021), so the OCR stage gave up on it after its attempts. The text layer is now stored without those
-- characters: forgetting these failures lets the stage read such documents again.
DELETE FROM pipeline.stage_failures
WHERE stage = 'ocr' AND error LIKE '%22021%';
