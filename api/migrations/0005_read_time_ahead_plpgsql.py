"""``api_read_time_ahead`` in PL/pgSQL, the same rule: PostgreSQL plans the query of a SQL
function that it cannot inline (this one sums) again at each call, while a PL/pgSQL function
keeps its query's plan for the session. Called from ``api_take_search_slot`` (0004), once per
search on the primary, the SQL function took about 60 µs of the database's time, the PL/pgSQL
one about 2 µs (a loop of 20,000 calls in psql, at a million posts, on PostgreSQL 15; from 18 a
SQL function's plan is kept too)."""

from django.db import migrations

# The time a user's reads have paid for ahead, in seconds (api/read_budget.py): the sum over
# the user's rows (one per slot, and the searches' own) of how far each is ahead of now.
AHEAD = """
    SELECT sum(greatest(extract(epoch FROM w.busy_until - clock_timestamp()), 0))::double precision
    FROM api_expensivereadwindow w WHERE w.user_id = reader
"""
SIGNATURE = "CREATE OR REPLACE FUNCTION api_read_time_ahead(reader bigint) RETURNS double precision"
PLPGSQL = f"{SIGNATURE} LANGUAGE plpgsql VOLATILE AS $$ BEGIN RETURN ({AHEAD}); END $$;"
SQL = f"{SIGNATURE} LANGUAGE sql VOLATILE AS $${AHEAD}$$;"


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0004_search_slot"),
    ]

    operations = [migrations.RunSQL(PLPGSQL, SQL)]
