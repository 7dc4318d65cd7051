"""The records store: the transactional database of the institutions (the fund's ledger; later
the committee's register and the portal's users) through SQLAlchemy Core with Alembic
migrations — an SQLite file by default, PostgreSQL when given a URL."""
