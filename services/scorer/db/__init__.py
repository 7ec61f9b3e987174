"""The scorer's database: SQLAlchemy 2 models, sessions, data-access functions, Alembic migrations."""
