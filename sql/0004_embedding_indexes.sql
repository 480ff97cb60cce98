-- One HNSW cosine index per encoder. The embedding column has no fixed dimension (encoders coexist), so each index
-- is built on a cast to its encoder's dimension and only over that encoder's rows; a query reaches it by repeating
-- the same cast and the same encoder predicate (Dsdc.Modules/Embedding/SimilarDocumentSearch.cs).
CREATE INDEX IF NOT EXISTS embeddings_resnet18_minilm_hnsw_idx ON embeddings
    USING hnsw ((embedding::vector(896)) vector_cosine_ops) WHERE encoder = 'resnet18-minilm';

CREATE INDEX IF NOT EXISTS embeddings_clip_vit_base_patch32_hnsw_idx ON embeddings
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE encoder = 'clip-vit-base-patch32';
