"""Persistence: SQLAlchemy models, the queries on them, and Alembic migrations."""
