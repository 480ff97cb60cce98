-- pgvector holds the document embeddings. Creating it needs a privileged role the first time:
-- scripts/start.sh and scripts/test.sh create it as the database superuser, so this is then a no-op.
CREATE EXTENSION IF NOT EXISTS vector;
