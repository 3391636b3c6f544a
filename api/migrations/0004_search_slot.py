"""The function a search's own statement calls to take one of its user's reads in progress
(api/read_budget.py, ``search_guard``), so that a search on the primary needs no transaction
of its own around it; and the one rule of the time a user's reads have paid for ahead, which
it and api/read_budget.py's statements read."""

from django.db import migrations

# api_read_time_ahead(reader): the seconds the user's reads have paid for ahead of now (NULL:
# nothing written yet), each of their rows' (a slot's, their searches' of the primary) time
# ahead summed, so that reads charged to different rows spend one budget. Read in its own
# query, so a caller's statement locks api_expensivereadwindow only once it runs it.
#
# api_take_search_slot(namespace, slot_key, slots, reader, burst): with `slots` 0, true at
# once (the read holds its slot elsewhere, or none). Otherwise it takes the first free of the
# advisory locks (namespace + n, slot_key) for n below `slots`, held until the statement's
# transaction ends; with none free it raises SQLSTATE ER409. With one taken and `burst` not
# NULL, past `burst` seconds of api_read_time_ahead it raises SQLSTATE ER429 with those seconds
# as the error's DETAIL. The lock is taken before the table is read, so that a read waiting on
# that table already holds its slot.
CREATE = """
CREATE FUNCTION api_read_time_ahead(reader bigint) RETURNS double precision
LANGUAGE sql VOLATILE AS $$
    SELECT sum(greatest(extract(epoch FROM w.busy_until - clock_timestamp()), 0))::double precision
    FROM api_expensivereadwindow w WHERE w.user_id = reader
$$;

CREATE FUNCTION api_take_search_slot(
    namespace integer, slot_key integer, slots integer, reader bigint, burst double precision
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ahead double precision;
BEGIN
    IF slots <= 0 THEN
        RETURN true;
    END IF;
    FOR n IN 0 .. slots - 1 LOOP
        IF pg_try_advisory_xact_lock(namespace + n, slot_key) THEN
            IF burst IS NOT NULL THEN
                ahead := api_read_time_ahead(reader);
                IF ahead > burst THEN
                    RAISE EXCEPTION USING ERRCODE = 'ER429', MESSAGE = 'reads paid for ahead',
                        DETAIL = ahead::text;
                END IF;
            END IF;
            RETURN true;
        END IF;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'ER409', MESSAGE = 'no read of this user''s free';
END
$$;
"""
DROP = (
    "DROP FUNCTION api_take_search_slot(integer, integer, integer, bigint, double precision); "
    "DROP FUNCTION api_read_time_ahead(bigint);"
)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_expensive_read_time"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
