-- What GET /usage counts of live captions, per caller and UTC day of creation: a year of history is then
-- 366 rows or so to read instead of every caption of the year. Erased and pruned captions leave these
-- counts and go to erased_usage (its trigger is unchanged), so live counts + erased_usage stay the total.
--
-- Writers never wait on one another here: each database backend adds to a row of its own (`shard` is its
-- pg_backend_pid()), and a backend runs one transaction at a time, so the only transaction that can hold a
-- lock on that row is the one adding to it. What the migration counts goes to shard 0 (no backend has pid 0).
-- A reader sums the shards.

-- No caption is written, changed or deleted while the triggers are made and the rows counted: writers
-- already in a transaction finish first, later ones wait for this migration to commit and then fire the
-- triggers. Nothing is missed or counted twice.
LOCK TABLE "captions" IN SHARE ROW EXCLUSIVE MODE;

-- CreateTable
CREATE TABLE "caption_usage_days" (
    "caller" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "shard" INTEGER NOT NULL,
    "captions" INTEGER NOT NULL DEFAULT 0,
    "reused" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "goapi_tasks" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "caption_usage_days_pkey" PRIMARY KEY ("caller","day","shard")
);

-- Every statement that inserts captions (one, or a batch's up to 1000) adds them, one row per caller and day.
CREATE FUNCTION "captions_usage_days_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO caption_usage_days AS u (caller, day, shard, captions, reused, failed, goapi_tasks)
    SELECT caller, (created_at AT TIME ZONE 'UTC')::date, pg_backend_pid(), count(*), count(reused_from),
        count(*) FILTER (WHERE status = 'failed'), coalesce(sum(goapi_tasks), 0)
      FROM added GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (caller, day, shard) DO UPDATE SET captions = u.captions + EXCLUDED.captions,
      reused = u.reused + EXCLUDED.reused, failed = u.failed + EXCLUDED.failed,
      goapi_tasks = u.goapi_tasks + EXCLUDED.goapi_tasks;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_usage_days_inserted" AFTER INSERT ON "captions"
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT
  EXECUTE FUNCTION "captions_usage_days_inserted"();

-- Every statement that deletes captions (an erase, a retention chunk) takes them away again.
CREATE FUNCTION "captions_usage_days_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO caption_usage_days AS u (caller, day, shard, captions, reused, failed, goapi_tasks)
    SELECT caller, (created_at AT TIME ZONE 'UTC')::date, pg_backend_pid(), -count(*), -count(reused_from),
        -count(*) FILTER (WHERE status = 'failed'), -coalesce(sum(goapi_tasks), 0)
      FROM gone GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (caller, day, shard) DO UPDATE SET captions = u.captions + EXCLUDED.captions,
      reused = u.reused + EXCLUDED.reused, failed = u.failed + EXCLUDED.failed,
      goapi_tasks = u.goapi_tasks + EXCLUDED.goapi_tasks;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_usage_days_deleted" AFTER DELETE ON "captions"
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION "captions_usage_days_deleted"();

-- An update moves the counts only when a caption fails or stops failing (a retry), takes or drops another's
-- text, or is charged a task: a row trigger that fires only then, so that the updates that move nothing
-- (a webhook completing a caption, leases, callbacks) cost nothing. The service never changes a caption's
-- caller or created_at; should anything do so, the caption moves from its old row to its new one.
CREATE FUNCTION "caption_usage_day_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_day date := (OLD.created_at AT TIME ZONE 'UTC')::date;
  new_day date := (NEW.created_at AT TIME ZONE 'UTC')::date;
BEGIN
  IF OLD.caller = NEW.caller AND old_day = new_day THEN
    INSERT INTO caption_usage_days AS u (caller, day, shard, reused, failed, goapi_tasks)
      VALUES (NEW.caller, new_day, pg_backend_pid(),
        (NEW.reused_from IS NOT NULL)::int - (OLD.reused_from IS NOT NULL)::int,
        (NEW.status = 'failed')::int - (OLD.status = 'failed')::int, NEW.goapi_tasks - OLD.goapi_tasks)
      ON CONFLICT (caller, day, shard) DO UPDATE SET reused = u.reused + EXCLUDED.reused,
        failed = u.failed + EXCLUDED.failed, goapi_tasks = u.goapi_tasks + EXCLUDED.goapi_tasks;
  ELSE
    INSERT INTO caption_usage_days AS u (caller, day, shard, captions, reused, failed, goapi_tasks)
      SELECT caller, day, pg_backend_pid(), sum(captions), sum(reused), sum(failed), sum(goapi_tasks)
        FROM (VALUES
            (OLD.caller, old_day, -1, -(OLD.reused_from IS NOT NULL)::int, -(OLD.status = 'failed')::int,
              -OLD.goapi_tasks),
            (NEW.caller, new_day, 1, (NEW.reused_from IS NOT NULL)::int, (NEW.status = 'failed')::int,
              NEW.goapi_tasks)) AS moved (caller, day, captions, reused, failed, goapi_tasks)
        GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (caller, day, shard) DO UPDATE SET captions = u.captions + EXCLUDED.captions,
        reused = u.reused + EXCLUDED.reused, failed = u.failed + EXCLUDED.failed,
        goapi_tasks = u.goapi_tasks + EXCLUDED.goapi_tasks;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "captions_usage_day_changed"
  AFTER UPDATE OF "status", "reused_from", "goapi_tasks", "caller", "created_at" ON "captions" FOR EACH ROW
  WHEN ((OLD."status" = 'failed') <> (NEW."status" = 'failed')
    OR (OLD."reused_from" IS NULL) <> (NEW."reused_from" IS NULL)
    OR OLD."goapi_tasks" <> NEW."goapi_tasks"
    OR OLD."caller" <> NEW."caller" OR OLD."created_at" <> NEW."created_at")
  EXECUTE FUNCTION "caption_usage_day_changed"();

-- The captions already there, counted once.
INSERT INTO caption_usage_days (caller, day, shard, captions, reused, failed, goapi_tasks)
  SELECT caller, (created_at AT TIME ZONE 'UTC')::date, 0, count(*), count(reused_from),
      count(*) FILTER (WHERE status = 'failed'), coalesce(sum(goapi_tasks), 0)
    FROM captions GROUP BY 1, 2;
