-- The lineage of every document, one table per pipeline stage, as in the original system.
-- Each derived row names the processor (or encoder) and version that produced it, so a newer version can recompute.

CREATE TABLE original_documents (
    id            char(40)    PRIMARY KEY,               -- SHA-1 of the file's bytes, lowercase hex
    original_name text        NOT NULL,                  -- file name as it arrived
    source_folder text        NOT NULL,                  -- inbox sub-folder it came from
    file_path     text        NOT NULL UNIQUE,           -- relative to the data folder: raw/a/b/<id>.<ext>
    media_type    text        NOT NULL,
    file_size     bigint      NOT NULL CHECK (file_size > 0),
    page_count    integer     NOT NULL CHECK (page_count > 0),
    width         integer     NOT NULL CHECK (width > 0),   -- first page, pixels
    height        integer     NOT NULL CHECK (height > 0),
    ingested_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX original_documents_ingested_at_idx ON original_documents (ingested_at DESC);

-- Labels accumulate: the newest human label wins over any dataset label.
CREATE TABLE labels (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    label       smallint    NOT NULL CHECK (label BETWEEN 0 AND 15),
    source      text        NOT NULL CHECK (source IN ('dataset', 'human')),
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX labels_document_idx ON labels (document_id, created_at DESC);
CREATE UNIQUE INDEX labels_one_dataset_label_idx ON labels (document_id) WHERE source = 'dataset';

-- Every refusal, with the reason a person can act on; the file itself lies under rejected/<folder>/.
CREATE TABLE rejected_documents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_folder text        NOT NULL,
    file_name     text,
    sha1          char(40),
    reason_code   text        NOT NULL,
    reason        text        NOT NULL,
    rejected_path text        NOT NULL,                  -- relative to the data folder
    rejected_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_documents_reason_idx ON rejected_documents (reason_code);

CREATE TABLE raw_texts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id       char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    text              text        NOT NULL,
    method            text        NOT NULL CHECK (method IN ('ocr', 'pdf-text-layer')),
    processor         text        NOT NULL,
    processor_version text        NOT NULL,
    mean_confidence   real,
    duration_ms       integer     NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, processor, processor_version)
);

CREATE TABLE processed_texts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raw_text_id       bigint      NOT NULL REFERENCES raw_texts (id) ON DELETE CASCADE,
    document_id       char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    text              text        NOT NULL,
    processor         text        NOT NULL,
    processor_version text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (raw_text_id, processor, processor_version)
);
CREATE INDEX processed_texts_document_idx ON processed_texts (document_id);

CREATE TABLE processed_images (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id       char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    file_path         text        NOT NULL,              -- relative to the data folder: processed/...
    width             integer     NOT NULL,
    height            integer     NOT NULL,
    processor         text        NOT NULL,
    processor_version text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, processor, processor_version)
);

-- One vector per (image, text, encoder): the image part and the text part concatenated, each L2-normalised.
-- The column has no fixed dimension, so several encoders coexist; each gets its own HNSW index on a cast.
CREATE TABLE embeddings (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id        char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    processed_image_id bigint      NOT NULL REFERENCES processed_images (id) ON DELETE CASCADE,
    processed_text_id  bigint      NOT NULL REFERENCES processed_texts (id) ON DELETE CASCADE,
    encoder            text        NOT NULL,
    encoder_version    text        NOT NULL,
    dimensions         integer     NOT NULL,
    embedding          vector      NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (processed_image_id, processed_text_id, encoder, encoder_version),
    CHECK (vector_dims(embedding) = dimensions)
);
CREATE INDEX embeddings_document_idx ON embeddings (document_id, encoder);
