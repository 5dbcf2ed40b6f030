from alembic import context

from bot.features import tables

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it and dropping the old one: with foreign keys on, that DROP
        # deletes every row pointing at the table (ON DELETE CASCADE). The pragma is a no-op inside a
        # transaction, so it goes to the driver before the migration's transaction begins.
        connection.connection.cursor().execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=tables(),
                render_as_batch=sqlite,
                compare_type=True,
            )
            context.run_migrations()
    finally:
        if sqlite:
            connection.connection.cursor().execute("PRAGMA foreign_keys=ON")
