"""The knowledge store: documents, chunks, embeddings, vector and keyword indexes."""
