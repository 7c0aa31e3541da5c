"""Sentence embedding models: the `Embedder` seam, its backends, and the code that builds the default model."""
