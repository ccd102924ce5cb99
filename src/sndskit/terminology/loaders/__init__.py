"""One loader per source family; each returns a ``TerminologyBatch`` (see ``model``)."""
