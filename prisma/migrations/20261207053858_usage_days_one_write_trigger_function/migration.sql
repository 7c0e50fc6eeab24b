-- The per-day counts' insert and delete triggers ran two copies of one function that differed in a sign:
-- one function now, which takes the sign from TG_OP and reads the statement's captions from a transition
-- table both triggers call `written`. The triggers are made again in this migration's transaction, so
-- every statement on captions fires either the old ones or the new ones: nothing is missed or counted twice.

CREATE FUNCTION "captions_usage_days_written"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign int := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  INSERT INTO caption_usage_days AS u (caller, day, shard, captions, reused, failed, goapi_tasks)
    SELECT caller, (created_at AT TIME ZONE 'UTC')::date, pg_backend_pid(), sign * count(*),
        sign * count(reused_from), sign * count(*) FILTER (WHERE status = 'failed'),
        sign * coalesce(sum(goapi_tasks), 0)
      FROM written GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (caller, day, shard) DO UPDATE SET captions = u.captions + EXCLUDED.captions,
      reused = u.reused + EXCLUDED.reused, failed = u.failed + EXCLUDED.failed,
      goapi_tasks = u.goapi_tasks + EXCLUDED.goapi_tasks;
  RETURN NULL;
END
$$;

-- Every statement that inserts captions (one, or a batch's up to 1000) adds them, one row per caller and day.
DROP TRIGGER "captions_usage_days_inserted" ON "captions";
CREATE TRIGGER "captions_usage_days_inserted" AFTER INSERT ON "captions"
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION "captions_usage_days_written"();

-- Every statement that deletes captions (an erase, a retention chunk) takes them away again.
DROP TRIGGER "captions_usage_days_deleted" ON "captions";
CREATE TRIGGER "captions_usage_days_deleted" AFTER DELETE ON "captions"
  REFERENCING OLD TABLE AS written FOR EACH STATEMENT
  EXECUTE FUNCTION "captions_usage_days_written"();

DROP FUNCTION "captions_usage_days_inserted"();
DROP FUNCTION "captions_usage_days_deleted"();
