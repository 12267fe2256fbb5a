"""Text handling shared by ingestion and search: normalisation and language detection."""
