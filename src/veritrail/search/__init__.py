"""Search: analyzers, the query language, and providers behind one interface."""
