-- Log-scale latency histograms for invocation_rollups (mirrored by worker/histogram.ts):
-- bucket 0 holds values up to 0.05 ms; bucket i >= 1 holds (0.05·1.15^(i-1), 0.05·1.15^i] ms;
-- the last bucket (121, about 930 s) holds everything above.
CREATE OR REPLACE FUNCTION hearth_bucket(v double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN v IS NULL THEN NULL
    WHEN v <= 0.05 THEN 0
    ELSE least(121, ceil(ln(v / 0.05) / ln(1.15))::integer)
  END
$$;
--> statement-breakpoint
-- Counts per bucket for a set of values, as a dense array trimmed after the last non-empty bucket.
CREATE OR REPLACE FUNCTION hearth_hist(vals double precision[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH b AS (SELECT hearth_bucket(v) AS i FROM unnest(vals) AS v WHERE v IS NOT NULL),
       c AS (SELECT i, count(*)::integer AS n FROM b GROUP BY i)
  SELECT coalesce(
    (SELECT array_agg(coalesce(c.n, 0) ORDER BY g.i)
       FROM generate_series(0, (SELECT max(i) FROM c)) AS g(i)
       LEFT JOIN c ON c.i = g.i),
    '{}'::integer[])
$$;
--> statement-breakpoint
-- Element-wise sum of two histograms of any lengths.
CREATE OR REPLACE FUNCTION hearth_hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}'::integer[])
  FROM unnest(coalesce(a, '{}'::integer[]), coalesce(b, '{}'::integer[])) WITH ORDINALITY AS t(x, y, i)
$$;
--> statement-breakpoint
CREATE OR REPLACE AGGREGATE hearth_hist_sum(integer[]) (
  SFUNC = hearth_hist_add,
  STYPE = integer[],
  INITCOND = '{}'
);
