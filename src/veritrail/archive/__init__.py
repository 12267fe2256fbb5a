"""The archive: reading files of every kind into text, language and mentions."""
