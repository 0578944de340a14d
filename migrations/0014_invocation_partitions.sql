-- Invocation records partitioned by queued_at, one partition a UTC day, so old records go by dropping a
-- partition, never by a DELETE. Existing records are not copied: the old table becomes the first partition,
-- covering everything before a cut-over day, and is dropped whole once its newest day has aged out.
-- The slow parts on a large table (a unique index on (id, queued_at) and the check that bounds its
-- queued_at) are done beforehand without blocking writes by `migrations/partition-prepare.ts`; here they
-- are only looked up, so this takes the table for milliseconds. When they are missing they are done
-- here, holding the table meanwhile.
DO $$
DECLARE
  cutover timestamptz;
  bound text;
BEGIN
  ALTER TABLE invocations RENAME TO invocations_legacy;
  ALTER INDEX invocations_function_queued_at_id_idx RENAME TO invocations_legacy_function_queued_at_id_idx;
  ALTER INDEX invocations_namespace_queued_at_idx RENAME TO invocations_legacy_namespace_queued_at_idx;
  ALTER TABLE invocations_legacy DROP CONSTRAINT invocations_pkey;
  CREATE TABLE invocations (LIKE invocations_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (queued_at);
  ALTER TABLE invocations ADD CONSTRAINT invocations_pkey PRIMARY KEY (id, queued_at);
  CREATE INDEX invocations_function_queued_at_id_idx ON invocations USING btree (function_id, queued_at DESC, id DESC);
  CREATE INDEX invocations_namespace_queued_at_idx ON invocations USING btree (namespace, queued_at DESC);
  IF NOT EXISTS (SELECT 1 FROM invocations_legacy) THEN
    DROP TABLE invocations_legacy;
    RETURN;
  END IF;
  SELECT pg_get_constraintdef(oid) INTO bound FROM pg_constraint
    WHERE conname = 'invocations_legacy_bound' AND conrelid = 'invocations_legacy'::regclass AND convalidated;
  IF bound IS NULL THEN
    ALTER TABLE invocations_legacy DROP CONSTRAINT IF EXISTS invocations_legacy_bound;
    cutover := (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC';
    EXECUTE format('ALTER TABLE invocations_legacy ADD CONSTRAINT invocations_legacy_bound CHECK (queued_at < %L)', cutover);
  ELSE
    cutover := (regexp_match(bound, '''([^'']+)'''))[1]::timestamptz;
  END IF;
  IF NOT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('invocations_id_queued_at_key')), false) THEN
    DROP INDEX IF EXISTS invocations_id_queued_at_key;
    CREATE UNIQUE INDEX invocations_id_queued_at_key ON invocations_legacy (id, queued_at);
  END IF;
  ALTER TABLE invocations_legacy ADD CONSTRAINT invocations_legacy_pkey PRIMARY KEY USING INDEX invocations_id_queued_at_key;
  EXECUTE format('ALTER TABLE invocations ATTACH PARTITION invocations_legacy FOR VALUES FROM (MINVALUE) TO (%L)', cutover);
END $$;--> statement-breakpoint
-- Creates the missing day partitions from first_day to last_day (UTC days), skipping days the old table
-- still covers; answers how many it made. Each is made empty and then attached, which takes the parent
-- only in SHARE UPDATE EXCLUSIVE mode (reads and writes go on). Serialised by an advisory lock.
CREATE FUNCTION hearth_invocation_partitions(first_day date, last_day date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  d date := first_day;
  made integer := 0;
  legacy_end timestamptz;
  part text;
BEGIN
  PERFORM pg_advisory_xact_lock(18512, 1);
  SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz INTO legacy_end
    FROM pg_class c WHERE c.oid = to_regclass('invocations_legacy') AND c.relispartition;
  WHILE d <= last_day LOOP
    part := 'invocations_p' || to_char(d, 'YYYYMMDD');
    IF (legacy_end IS NULL OR (d::timestamp AT TIME ZONE 'UTC') >= legacy_end) AND to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE invocations INCLUDING DEFAULTS)', part);
      EXECUTE format('ALTER TABLE invocations ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part,
        d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      made := made + 1;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN made;
END $$;--> statement-breakpoint
SELECT hearth_invocation_partitions(((now() AT TIME ZONE 'UTC') - interval '1 day')::date, ((now() AT TIME ZONE 'UTC') + interval '3 days')::date);--> statement-breakpoint
ALTER TABLE "namespaces" ADD COLUMN "record_retention_days" integer;--> statement-breakpoint
-- Made beforehand, concurrently, by the prepare step on a platform with records; here only when missing (a
-- CREATE INDEX would take the rollups in SHARE mode while the records' table is held: a record's insert, which
-- takes the rollups first, would deadlock with it).
DO $$
BEGIN
  IF to_regclass('invocation_rollups_resolution_bucket_idx') IS NULL THEN
    CREATE INDEX invocation_rollups_resolution_bucket_idx ON invocation_rollups USING btree (resolution, bucket);
  END IF;
END $$;
