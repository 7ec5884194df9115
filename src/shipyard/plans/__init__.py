"""Pure decisions: facts observed on hosts in, a list of steps out. No I/O here."""
