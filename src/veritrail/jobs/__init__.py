"""Background jobs: a queue in the database and an in-process worker."""
