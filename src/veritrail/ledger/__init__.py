"""The transparency log's core: Merkle trees, tiles, signed notes and checkpoints.

Pure code with no storage: the store keeps tiles and entries, the actions append
to the log, and states verify it with these same functions or with tools of
their own (RFC 9162 hashing, C2SP tlog-tiles, tlog-checkpoint, signed-note).
"""
