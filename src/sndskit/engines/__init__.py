"""Where SNDS-shaped data lives and how SQL runs on it (DuckDB by default)."""
