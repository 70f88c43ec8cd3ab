-- Statement fragment (a CTE body): how [start, end) splits into whole UTC days, read from the
-- daily rollups as [lo, hi), and the partial days at either edge, read from chat_messages as the
-- ranges [s, lo) and [hi, e). Without a whole day inside, lo = hi = e and [s, e) is all edge.
SELECT s, e, CASE WHEN fs < fe THEN fs ELSE e END AS lo, CASE WHEN fs < fe THEN fe ELSE e END AS hi
FROM (SELECT ${start}::timestamptz AS s, ${end}::timestamptz AS e,
             -- UTC days are exactly 24 hours (an interval of '1 day' would follow the session's DST).
             date_trunc('day', ${start}::timestamptz + interval '24 hours' - interval '1 microsecond', 'UTC') AS fs,
             date_trunc('day', ${end}::timestamptz, 'UTC') AS fe) d
