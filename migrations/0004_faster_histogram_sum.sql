-- Element-wise histogram sum as a loop over the shorter array: several times
-- faster than unnest/array_agg, which matters when a metrics answer folds
-- hundreds of rollup rows (hearth_hist_sum calls this once per row).
CREATE OR REPLACE FUNCTION hearth_hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  la integer := coalesce(array_length(a, 1), 0);
  lb integer := coalesce(array_length(b, 1), 0);
  result integer[];
BEGIN
  IF lb = 0 THEN RETURN coalesce(a, '{}'::integer[]); END IF;
  IF la = 0 THEN RETURN b; END IF;
  IF la >= lb THEN
    result := a;
    FOR i IN 1..lb LOOP result[i] := result[i] + b[i]; END LOOP;
  ELSE
    result := b;
    FOR i IN 1..la LOOP result[i] := result[i] + a[i]; END LOOP;
  END IF;
  RETURN result;
END
$$;
