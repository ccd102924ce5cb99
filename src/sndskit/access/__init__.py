"""Access requests: the study spec, the EDB built from it, the dossier, the automatic review
and the project registry (``docs/access.md``)."""
