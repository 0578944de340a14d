-- A histogram as an aggregate, one cheap step per value: the record insert
-- folds each batch into four rollup resolutions, and building each bucket's
-- histograms with hearth_hist (unnest, generate_series, a join) cost more
-- than the insert itself.
CREATE OR REPLACE FUNCTION hearth_hist_step(state integer[], v double precision) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  i integer;
BEGIN
  IF v IS NULL THEN RETURN state; END IF;
  i := hearth_bucket(v) + 1;
  WHILE coalesce(array_length(state, 1), 0) < i LOOP
    state := state || 0;
  END LOOP;
  state[i] := state[i] + 1;
  RETURN state;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE AGGREGATE hearth_hist_of(double precision) (
  SFUNC = hearth_hist_step,
  STYPE = integer[],
  INITCOND = '{}'
);
