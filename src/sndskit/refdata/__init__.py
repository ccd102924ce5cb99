"""Public reference data: the registry of its origins (``sources``) and its download (``fetch``)."""
