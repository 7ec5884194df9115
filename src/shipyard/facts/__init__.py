"""Facts: a command paired with a pure parser of its output."""
