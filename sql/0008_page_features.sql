-- Features of a page that are not one encoder's vector: ResNet18 features of regions of the page (header, footer,
-- halves, quadrants...), computed once from the stored original by the embedding stage and read by training and
-- cross-validation. One row per (document, kind, version); a new version recomputes beside the old rows.
CREATE TABLE page_features (
    document_id char(40)    NOT NULL REFERENCES original_documents (id) ON DELETE CASCADE,
    kind        text        NOT NULL,
    version     text        NOT NULL,
    dimensions  integer     NOT NULL,
    features    vector      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, kind, version),
    CHECK (vector_dims(features) = dimensions)
);
