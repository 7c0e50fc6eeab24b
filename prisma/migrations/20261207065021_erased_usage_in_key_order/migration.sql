-- Every statement that deletes captions adds them to erased_usage, one row per caller and day, rows every
-- deleting backend shares (an erase, a batch erase, each replica's retention chunks). The upsert took those
-- rows in the order its grouping happened to yield them: by hash in one backend's plan, sorted in another's.
-- Two statements each deleting captions of the same two days could then take the two rows in opposite
-- orders and deadlock, failing one of them. Taken in (caller, day) order, as the per-day counts are, a
-- second statement only waits for the first.
CREATE OR REPLACE FUNCTION "captions_erased_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO erased_usage AS e (caller, day, captions, reused, failed, goapi_tasks)
    SELECT caller, (created_at AT TIME ZONE 'UTC')::date, count(*), count(reused_from),
        count(*) FILTER (WHERE status = 'failed'), coalesce(sum(goapi_tasks), 0)
      FROM gone GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (caller, day) DO UPDATE SET captions = e.captions + EXCLUDED.captions,
      reused = e.reused + EXCLUDED.reused, failed = e.failed + EXCLUDED.failed,
      goapi_tasks = e.goapi_tasks + EXCLUDED.goapi_tasks;
  RETURN NULL;
END
$$;
