#!/usr/bin/env bash
# Benchmark: pitr_restore.resolve_target() at 1 TiB of WAL (65,536 segments).
#
# What it does: a throwaway cluster archives into $T/archive; a first base
# backup "b1" is taken early.  The cluster is then stopped cleanly and
# pg_resetwal -l 000000010000010000000000 moves its next WAL segment to 1 TiB
# (segment number 65,536); after a restart a second base backup "b2" is
# taken and a real workload writes a few segments of WAL: bulk INSERTs in
# many commits, then the target time and LSN are noted, a restore point
# "bench_target" is made, and more commits follow.  Archiving is then turned
# off (the archive must not change from here on) and scan_archive() indexes
# the real files.
#
#   small index: just the real segments; resolve_target picks b2, whose WAL
#                is a few real segments ("peer": the resolver at a small
#                archive).
#   large index: the index is filled with synthetic archive_file rows (kind
#                segment, status ok, 16 MiB each, commit times before the
#                targets, no xid range, no events) for every segment number
#                between b1's segments and the real ones, so it holds
#                >= 65,536 segments and b1 -> target spans 1 TiB of WAL.
#                Timed twice: pinned to b1 (backup_label => 'b1': the whole
#                1 TiB path is checked for continuity; the headline) and with
#                the default choice (b2: same index size, short path).
#
# The synthetic rows are index rows over sparse files of the same size and
# mtime (resolve_target compares every file on the path it certifies with
# the index); their content is not WAL and the WAL pg_resetwal skipped is
# not continuous in reality.  That is fine for
# timing the resolver (its continuity check reads only the index; its WAL
# walk reads only the real segments around the stop), and each timed case
# first checks the answer is reachable with the stop in the real segments.
# refresh_archive() keeps the synthetic rows because the archive
# directory's mtime is recorded as the last scan's once the files exist.
#
# Timing: inside one session, a plpgsql loop calls resolve_target N times
# (BENCH_CALLS, default 60) after 3 untimed warm-ups, each call timed by
# clock_timestamp() around it (server time, no round trip); median, p90 and
# max in ms.  Target: median <= 15 ms for every kind: time, name, LSN, xid,
# mark (a create_mark restore point) and immediate; <= 100 ms pinned to b1
# (the 65,536-segment path).  The floor of that case is one fstatat() per
# file of the path: the LSN kind is timed again with scan_workers = 0 (the
# backend alone looks at every file), and a bare loop of lstat() over the
# same files (Perl, full paths) is timed beside it.  Then pg_stat_statements (track =
# all, only during that pass) shows where a call's time goes in the large
# index, and pg_waldump --stats over the segment holding the stop gives the
# unavoidable cost of reading it.
#
# Called by test/bench/run.sh (BENCH=resolve_target), which installs
# packages and builds/installs the extension; runs as root (the cluster runs
# as postgres).  KEEP=1 keeps the temporary directory.
set -euo pipefail
CALLS=${BENCH_CALLS:-60}
TARGET_MS=15
TARGET_LONG_MS=100
. "$(dirname "$0")/common.bash"
pg_start() { start_cluster "$T/data" "$T/server.log"; }
pg_stop() { stop_cluster "$T/data"; }

# ---------------------------------------------------------------- 1. cluster
as_postgres mkdir -p "$T/archive" "$T/backups"
bench_cluster <<CONF
archive_command = 'cp %p $T/archive/%f'
track_commit_timestamp = on
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = none
pitr_restore.archive_dir = '$T/archive'
pitr_restore.backup_dir = '$T/backups'
fsync = off
CONF
sql "CREATE EXTENSION pitr_restore" >/dev/null
sql "CREATE EXTENSION pg_stat_statements" >/dev/null
sql "CREATE TABLE t (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(), v text)"
for i in 1 2 3; do sql "INSERT INTO t (v) VALUES ('before b1 $i')"; done

log "base backup b1 (port $port, dir $T)"
as_postgres pg_basebackup -h "$T" -p "$port" -D "$T/backups/b1" -Fp -c fast -l b1
for i in 1 2 3; do sql "INSERT INTO t (v) VALUES ('after b1 $i')"; done
seg=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_archived "$T" "$port" "$seg" 60
pg_stop

# ------------------------------------------------------ 2. jump to 1 TiB
log "pg_resetwal -l 000000010000010000000000 (next WAL segment at 1 TiB)"
as_postgres pg_resetwal -l 000000010000010000000000 "$T/data" >/dev/null
pg_start
as_postgres pg_basebackup -h "$T" -p "$port" -D "$T/backups/b2" -Fp -c fast -l b2
# Bulk commits (~2 segments), the targets, more commits.
batch()
{
	local tag=$1 n=$2 i
	for i in $(seq "$n"); do
		echo "INSERT INTO t (v) SELECT repeat(md5(g::text), 30) || ' $tag $i' FROM generate_series(1, 1000) g;"
	done >"$T/batch.sql"
	chown postgres "$T/batch.sql"
	psql_ -d bench -f "$T/batch.sql"
}
batch one 25
sleep 0.05
target_time=$(sql "SELECT clock_timestamp()")
target_lsn=$(sql "SELECT pg_current_wal_insert_lsn()")
sleep 0.05
rp_lsn=$(sql "SELECT pg_create_restore_point('bench_target')")
target_xid=$(sql "INSERT INTO t (v) VALUES ('xid target') RETURNING xmin")
sql "SELECT pitr_restore.create_mark('bench_mark')" >/dev/null
batch two 25
seg=$(sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_archived "$T" "$port" "$seg" 60

# From here on the archive directory must not change.
pg_stop
echo "archive_mode = off" >>"$T/data/postgresql.conf"
pg_start

nfiles=$(ls "$T/archive" | wc -l)
log "archive: $nfiles files ($(ls "$T/archive" | LC_ALL=C sort | head -1) .. $(ls "$T/archive" | LC_ALL=C sort | tail -1)); target time $target_time, LSN $target_lsn, restore point at $rp_lsn"
sql "SELECT 'scan_archive: ' || s.segments_total || ' segments, ' || s.backups || ' backups' FROM pitr_restore.scan_archive() s"

# --------------------------------------------------------- 3. timing code
cat >"$T/bench_fn.sql" <<'SQL'
CREATE FUNCTION pg_temp.bench(q text, n integer,
	OUT median_ms numeric, OUT p90_ms numeric, OUT max_ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	ms float8[] := '{}';
	r record;
BEGIN
	FOR i IN 1..3 LOOP
		EXECUTE q INTO r;
	END LOOP;
	FOR i IN 1..n LOOP
		t0 := clock_timestamp();
		EXECUTE q INTO r;
		ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
	END LOOP;
	SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY m)::numeric, 2),
		   round(percentile_cont(0.9) WITHIN GROUP (ORDER BY m)::numeric, 2),
		   round(max(m)::numeric, 2)
	  INTO median_ms, p90_ms, max_ms FROM unnest(ms) m;
END
$$;
SQL
chown postgres "$T/bench_fn.sql"

q_time="SELECT * FROM pitr_restore.resolve_target(target_time => '$target_time'::timestamptz%s)"
q_name="SELECT * FROM pitr_restore.resolve_target(target_name => 'bench_target'%s)"
q_lsn="SELECT * FROM pitr_restore.resolve_target(target_lsn => '$target_lsn'::pg_lsn%s)"
q_xid="SELECT * FROM pitr_restore.resolve_target(target_xid => '$target_xid'::xid8%s)"
q_mark="SELECT * FROM pitr_restore.resolve_target(target_mark => 'bench_mark'%s)"
q_immediate="SELECT * FROM pitr_restore.resolve_target(target => 'immediate'%s)"
KINDS="time name lsn xid mark immediate"
query() { local v="q_$1"; printf "${!v}" "$2"; }

declare -A res answer
# timed CASE PIN: checks the answers, then times each kind.
timed()
{
	local c=$1 pin=$2 k q out check
	for k in $KINDS; do
		q=$(query $k "$pin")
		check=$(sql "SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s', r.reachable, r.reason, r.backup_label, r.stop_lsn, r.stop_lsn >= '100/0'::pg_lsn, r.wal_first, r.wal_last, r.wal_segments, r.wal_bytes) FROM ($q) r")
		IFS='|' read -r reach reason blabel stop inreal wfirst wlast wsegs wbytes <<<"$check"
		answer[$c,$k]="backup $blabel, stop $stop, WAL $wfirst..$wlast ($wsegs segments, $((wbytes / 1048576)) MB)"
		# immediate stops at the backup's own consistency point
		if [ "$reach" != t ] || { [ "$inreal" != t ] && [ "$k" != immediate ]; }; then
			echo "$c $k: not reachable in the real segments: $check" >&2
			return 1
		fi
		out=$(psql_ -d bench -f "$T/bench_fn.sql" -c "SELECT median_ms || ' ' || p90_ms || ' ' || max_ms FROM pg_temp.bench(\$q\$$q\$q\$, $CALLS)")
		res[$c,$k]=$out
		log "  $c $k: median/p90/max $out ms; ${answer[$c,$k]}"
	done
}

# ------------------------------------------------------- 4. small index
small_n=$(sql "SELECT count(*) FROM pitr_restore.segments()")
log "small index: $small_n segments"
timed small ""

# ------------------------------------------------------- 5. large index
log "synthesizing index rows up to segment 65,535"
sql "
WITH a AS (SELECT * FROM pitr_restore.archive WHERE directory = pitr_restore.archive_path()),
real AS (SELECT f.* FROM pitr_restore.archive_file f, a
		  WHERE f.archive_id = a.archive_id AND f.kind = 'segment' AND f.status = 'ok'),
lo AS (SELECT min(segno) AS lo FROM real),
tmpl AS (SELECT * FROM real ORDER BY segno LIMIT 1),
-- commit times: spread evenly between the last commit before the jump and
-- the first one after it (so before every target)
tt AS (SELECT max(max_commit_time) FILTER (WHERE segno < 65536) AS t_lo,
			  min(min_commit_time) FILTER (WHERE segno >= 65536) AS t_hi FROM real),
g AS (SELECT s, tt.t_lo + (tt.t_hi - tt.t_lo) * ((s - lo.lo + 1)::float8 / (65537 - lo.lo)) AS ct
		FROM lo, tt, generate_series(lo.lo, 65535) s)
INSERT INTO pitr_restore.archive_file
	(archive_id, file_name, kind, compression, file_size, file_mtime, timeline,
	 segno, status, system_identifier, page_magic, first_lsn, next_lsn,
	 records, commits, aborts, first_commit_time, last_commit_time,
	 min_commit_time, max_commit_time, min_xid, max_xid, has_switch,
	 wal_level_minimal)
SELECT a.archive_id,
	   upper('00000001' || lpad(to_hex(s / (4294967296 / a.segment_size)), 8, '0')
			 || lpad(to_hex(s % (4294967296 / a.segment_size)), 8, '0')),
	   'segment', 'none', a.segment_size, to_timestamp(1700000000), 1, s, 'ok',
	   tmpl.system_identifier, tmpl.page_magic,
	   '0/0'::pg_lsn + (s * a.segment_size::numeric + 40),
	   '0/0'::pg_lsn + ((s + 1) * a.segment_size::numeric),
	   120000, 1000, 0,
	   g.ct - interval '1 us', g.ct, g.ct - interval '1 us', g.ct,
	   NULL, NULL, false, false
  FROM a, tmpl, g
 WHERE NOT EXISTS (SELECT 1 FROM pitr_restore.archive_file f
					WHERE f.archive_id = a.archive_id AND f.timeline = 1
					  AND f.segno = s AND f.kind = 'segment')"
# resolve_target compares every file on the path it certifies with the
# index (fstatat: size, mtime and stamp): give each synthetic row a file, sparse (no
# blocks), of the size and mtime it records, then record the directory's
# new mtime as the last scan's, so no scan runs.
sql "SELECT f.file_name FROM pitr_restore.archive_file f, pitr_restore.archive a
	  WHERE a.directory = pitr_restore.archive_path() AND f.archive_id = a.archive_id
		AND f.file_mtime = to_timestamp(1700000000)" >"$T/synthetic.names"
chmod 644 "$T/synthetic.names"
as_postgres perl -e '
	my ($dir, $names, $size) = @ARGV;
	open(my $in, "<", $names) or die "$names: $!";
	while (my $n = <$in>)
	{
		chomp $n;
		next if $n eq "" || -e "$dir/$n";
		open(my $fh, ">", "$dir/$n") or die "$dir/$n: $!";
		close $fh;
		truncate("$dir/$n", $size) or die;
		utime(1700000000, 1700000000, "$dir/$n") or die;
	}' "$T/archive" "$T/synthetic.names" "$(sql "SELECT segment_size FROM pitr_restore.archive WHERE directory = pitr_restore.archive_path()")"
sql "UPDATE pitr_restore.archive SET dir_mtime = '$(stat -c '%.9Y' "$T/archive")'
	  WHERE directory = pitr_restore.archive_path()" >/dev/null
log "sparse files for the synthetic rows: $(wc -l <"$T/synthetic.names")"
# what a scan keeps beside the rows: the runs of consecutive segments
# (as the index store's end of scan writes them)
sql "DELETE FROM pitr_restore.segment_run;
     INSERT INTO pitr_restore.segment_run (archive_id, timeline, lo, hi)
     SELECT s.archive_id, s.timeline, min(s.segno), max(s.segno)
       FROM (SELECT d.archive_id, d.timeline, d.segno,
                    d.segno - row_number() OVER (PARTITION BY d.archive_id, d.timeline ORDER BY d.segno) AS grp
               FROM (SELECT DISTINCT f.archive_id, f.timeline, f.segno FROM pitr_restore.archive_file f
                      WHERE f.kind = 'segment' AND f.status = 'ok') d) s
      GROUP BY s.archive_id, s.timeline, s.grp" >/dev/null
sql "ANALYZE pitr_restore.archive_file" >/dev/null
large_n=$(sql "SELECT count(*) FROM pitr_restore.segments()")
log "large index: $large_n segments"
if [ "$large_n" -lt 65536 ]; then
	echo "the index holds $large_n segments, fewer than 65,536 (refresh_archive rescanned?)" >&2
	exit 1
fi
timed large_b1 ", backup_label => 'b1'"
timed large_b2 ""

# ------------------------------------------------------- 5b. the floor
q=$(query lsn ", backup_label => 'b1'")
serial=$(psql_ -d bench -f "$T/bench_fn.sql" -c "SET pitr_restore.scan_workers = 0" \
	-c "SELECT median_ms || ' ' || p90_ms || ' ' || max_ms FROM pg_temp.bench(\$q\$$q\$q\$, $(((CALLS + 1) / 2)))")
log "  large_b1 lsn, scan_workers = 0: median/p90/max $serial ms"
lstat_ms=$(as_postgres perl -MTime::HiRes=time -e '
	my ($dir, $names) = @ARGV;
	open(my $in, "<", $names) or die "$names: $!";
	my @n = map { chomp; "$dir/$_" } grep { /\S/ } <$in>;
	my @t;
	for (1 .. 7) { my $s = time; lstat($_) for @n; push @t, (time - $s) * 1000; }
	@t = sort { $a <=> $b } @t;
	printf "%.1f %d", $t[3], scalar @n;' "$T/archive" "$T/synthetic.names")
log "  bare lstat loop over the synthetic files: median ${lstat_ms% *} ms for ${lstat_ms#* } files"
if [ "$(sql "SELECT count(*) FROM pitr_restore.segments()")" != "$large_n" ]; then
	echo "the synthetic rows were dropped during the timing" >&2
	exit 1
fi

# ------------------------------------------------------- 6. where time goes
# pg_stat_statements over CALLS/4 calls of each kind, large index, pinned b1.
prof_n=$(((CALLS + 3) / 4))
for k in time name lsn; do
	q=$(query $k ", backup_label => 'b1'")
	sql "SELECT pg_stat_statements_reset()" >/dev/null
	psql_ -d bench -c "SET pg_stat_statements.track = 'all'" \
		-c "DO \$d\$ DECLARE r record; BEGIN FOR i IN 1..$prof_n LOOP EXECUTE \$q\$$q\$q\$ INTO r; END LOOP; END \$d\$" \
		-c "SET pg_stat_statements.track = 'none'" >/dev/null
	sql "SELECT ' ' || to_char(total_exec_time / $prof_n, '9990.00') || ' ms/call ' || to_char(calls::numeric / $prof_n, '990.0') || 'x  ' ||
		left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements WHERE query NOT LIKE 'DO %' AND query NOT LIKE 'SET %'
		ORDER BY total_exec_time DESC LIMIT 10" >"$T/prof.$k"
done

# ---------------------------------------------------------- 7. pg_waldump
stopseg=$(sql "SELECT pg_walfile_name_offset(stop_lsn) FROM ($(query lsn '')) r" |
	sed 's/^(\([0-9A-F]*\),.*/\1/')
# pg_walfile_name_offset needs a non-recovery server: fine here.
ts=()
for i in 1 2 3 4 5 6; do
	ts+=("$(as_postgres bash -c 's=$(date +%s.%N)
		pg_waldump --stats -p "$1" "$2" "$2" >"$3/waldump.out" 2>&1 || true
		e=$(date +%s.%N); awk -v a="$s" -v b="$e" "BEGIN { printf \"%.2f\", (b - a) * 1000 }"' _ "$T/archive" "$stopseg" "$T")")
done
waldump_ms=$(printf '%s\n' "${ts[@]:1}" | LC_ALL=C sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

# --------------------------------------------------------------- report
echo
echo "resolve_target benchmark: median of $CALLS calls after 3 warm-ups, one session,"
echo "clock_timestamp() around each call (server time, no round trip); target median <= $TARGET_MS ms"
echo "(<= $TARGET_LONG_MS ms pinned to b1, the 65,536-segment path)."
echo "small = index of the real segments only ($small_n segments, backup b2, a few segments of WAL);"
echo "large = $large_n segments indexed (1 TiB of WAL, synthetic index rows between the backups"
echo "over sparse files, each fstatat()ed by the per-file check of the path; the real WAL there is discontinuous after pg_resetwal; the"
echo "segments read around the stop are real); b1 = pinned to the early backup (the path spans"
echo "all 65,536 segments), b2 = default choice (latest backup, short path)."
printf '%-10s %-6s %10s %10s %10s %8s  %s\n' index kind "median ms" "p90 ms" "max ms" target result
for c in small large_b1 large_b2; do
	for k in $KINDS; do
		set -- ${res[$c,$k]}
		t=$TARGET_MS
		[ "$c" = large_b1 ] && [ "$k" != immediate ] && t=$TARGET_LONG_MS
		r=PASS
		awk -v m="$1" -v t="$t" 'BEGIN { exit !(m > t) }' && r=MISS
		printf '%-10s %-6s %10s %10s %10s %8s  %s\n' "$c" "$k" "$1" "$2" "$3" "$t" "$r"
	done
done
set -- $serial
printf '%-10s %-6s %10s %10s %10s %8s  %s\n' large_b1 lsn/0w "$1" "$2" "$3" - "scan_workers = 0"
echo "bare lstat() loop over the ${lstat_ms#* } synthetic files (Perl, full paths, median of 7): ${lstat_ms% *} ms"
echo
echo "answers:"
for c in small large_b1 large_b2; do
	for k in $KINDS; do
		echo "  $c $k: ${answer[$c,$k]}"
	done
done
echo
echo "pg_waldump --stats over the segment holding the stop ($stopseg): median ${waldump_ms} ms (process included)"
grep -E '^Total' "$T/waldump.out" || tail -2 "$T/waldump.out"
echo
echo "where a call's time goes (large index, b1; pg_stat_statements track = all, $prof_n calls;"
echo "nested statements' times include their children):"
for k in time name lsn; do
	echo " $k:"
	cat "$T/prof.$k"
done
echo
echo "total time: $(elapsed "$started" "$(now)") s"
