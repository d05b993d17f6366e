"""Capital's business rules: standard library only (no Flask, no SQLAlchemy)."""
