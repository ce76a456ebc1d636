# archive_library = 'pitr_restore': segments archived compressed, each with
# a sidecar summary that equals what scan_archive stores for it; the archive
# restores to the resolver's predicted stop; a kill -9 mid-write leaves
# nothing taken as good and archiving resumes; a different file already
# there is refused and retried; an edited sidecar no longer matches.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($node, $archive) = new_primary(name => 'modprimary', module => 1,
	archive_name => 'modarchive', conf => "pitr_restore.archive_compression = 1\n");

# A pgbench workload around a base backup, restore points and a prepared
# transaction.
pgbench_around_backup($node, scale => 3, runs => [ 1500, 1000 ],
	restore_point => 'rp_mod');

my @segs = grep { /^[0-9A-F]{24}\.zst$/ } map { basename($_) } glob("$archive/*");
cmp_ok(scalar(@segs), '>=', 5, 'segments are archived zstd-compressed (' . scalar(@segs) . ')');
is(scalar(grep { !-f "$archive/$_.pitrsum" } @segs), 0, 'every archived segment has a sidecar');
ok(scalar(grep { /\.backup$/ } glob("$archive/*")), 'the backup history file is archived plain');
is(system("zstd -q -t $archive/$segs[0]"), 0, 'archived segments are valid zstd');

# Every sidecar equals what a scan of the WAL stores for its segment.
sub sidecars_equal_index
{
	my ($what) = @_;
	$node->safe_psql('postgres', 'SELECT pitr_restore.scan_archive()');
	my $bad = $node->safe_psql('postgres', qq{
WITH f AS (
  SELECT af.* FROM pitr_restore.archive_file af
   WHERE af.kind IN ('segment', 'partial')
     AND af.archive_id = pitr_restore.indexed_archive())
SELECT string_agg(af_name, ', ') FROM (
  SELECT f.file_name AS af_name FROM f
   WHERE NOT (SELECT matches FROM pitr_restore.sidecar_summary(
                  '$archive/' || f.file_name || '.pitrsum'))
      OR (f.first_lsn, f.next_lsn, f.records, f.commits, f.aborts,
          f.first_commit_time, f.last_commit_time, f.min_commit_time,
          f.max_commit_time, f.min_xid, f.max_xid, f.has_switch,
          f.wal_level_minimal, f.file_size, f.system_identifier, f.page_magic,
          f.status = 'ok')
         IS DISTINCT FROM
         (SELECT (s.first_lsn, s.next_lsn, s.records, s.commits, s.aborts,
                  s.first_commit_time, s.last_commit_time, s.min_commit_time,
                  s.max_commit_time, s.min_xid, s.max_xid, s.has_switch,
                  s.wal_level_minimal, s.file_size, s.system_identifier,
                  s.page_magic, s.complete)
            FROM pitr_restore.sidecar_summary('$archive/' || f.file_name || '.pitrsum') s)
      OR EXISTS (
         (SELECT kind, lsn, end_lsn, name, xid, event_time, ref_lsn,
                 event_timeline, prev_timeline, outcome
            FROM pitr_restore.sidecar_events('$archive/' || f.file_name || '.pitrsum')
          EXCEPT ALL
          SELECT kind, lsn, end_lsn, name, xid, event_time, ref_lsn,
                 event_timeline, prev_timeline, outcome
            FROM pitr_restore.wal_event e
           WHERE e.archive_id = f.archive_id AND e.file_name = f.file_name)
         UNION ALL
         (SELECT kind, lsn, end_lsn, name, xid, event_time, ref_lsn,
                 event_timeline, prev_timeline, outcome
            FROM pitr_restore.wal_event e
           WHERE e.archive_id = f.archive_id AND e.file_name = f.file_name
          EXCEPT ALL
          SELECT kind, lsn, end_lsn, name, xid, event_time, ref_lsn,
                 event_timeline, prev_timeline, outcome
            FROM pitr_restore.sidecar_events('$archive/' || f.file_name || '.pitrsum')))
) x});
	is($bad, '', "$what: every sidecar equals the scan of its segment");
	my $n = $node->safe_psql('postgres', q{
SELECT count(*) FROM pitr_restore.archive_file
 WHERE archive_id = pitr_restore.indexed_archive() AND kind = 'segment'});
	cmp_ok($n, '>=', scalar(@segs), "$what: the scan indexed the module's segments");
	my $events = $node->safe_psql('postgres', q{
SELECT count(*) FROM pitr_restore.wal_event
 WHERE archive_id = pitr_restore.indexed_archive()
   AND kind IN ('restore_point', 'prepare', 'finish_prepared', 'backup_end')});
	cmp_ok($events, '>=', 4, "$what: the compared events include restore points, 2PC and backup end");
}
sidecars_equal_index('after a pgbench workload');

# Some sidecar decoded a record crossing in from its predecessor.
my $crossing = $node->safe_psql('postgres', qq{
SELECT count(*) FROM pitr_restore.archive_file af,
       pitr_restore.sidecar_summary('$archive/' || af.file_name || '.pitrsum') s
 WHERE af.archive_id = pitr_restore.indexed_archive() AND af.kind = 'segment'
   AND s.prev_file IS NOT NULL AND s.start_lsn = s.first_lsn
   AND s.first_lsn < ('0/0'::pg_lsn + (af.segno * 16777216)::numeric)});
cmp_ok($crossing, '>=', 1, 'records crossing into a segment were decoded from its archived predecessor');

# The archive restores to the resolver's predicted stop.
my $res = resolve($node, "target_name => 'rp_mod'");
is($res->{reachable}, 't', 'the restore point is reachable') or diag($res->{reason});
my $rec = recover($node, $res);
is($rec->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $res->{end_lsn},
	'recovery from the module\'s archive stops at the predicted point');
is($rec->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE tag LIKE 'a%'"), '50',
	'what precedes the restore point is kept');
is($rec->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE tag LIKE 'b%'"), '0',
	'what follows it is not');
$rec->stop('immediate');

# A different file already under the next segment's name is refused, not
# overwritten, and the archiver retries until it is gone.
my $next = $node->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
my $intruder = "$archive/$next.zst";
open(my $fh, '>', $intruder) or die;
print $fh "not this cluster's WAL\n";
close($fh);
my $failed_before = $node->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver');
my $log_offset = -s $node->logfile;
workload($node, 'c', 20);
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->poll_query_until('postgres',
	"SELECT failed_count >= $failed_before + 2 FROM pg_stat_archiver")
  or die 'the archiver did not fail on the existing file';
ok($node->log_contains(qr/archive file "\Q$intruder\E" already exists with different contents/,
	$log_offset), 'the log says the existing file differs');
is(slurp_file($intruder), "not this cluster's WAL\n", 'the existing file is not overwritten');
ok(!-e "$intruder.pitrsum", 'no sidecar is written for a refused file');
unlink($intruder);
$node->poll_query_until('postgres',
	"SELECT last_archived_wal >= '$next' FROM pg_stat_archiver")
  or die "$next was not archived after the retry";
ok(-f "$intruder.pitrsum", 'the archiver retried and archived the segment');

# kill -9 of the archiver while it writes a segment (a slow level makes the
# window wide): the cluster restarts, nothing half-written is taken as good,
# and archiving resumes.
$node->safe_psql('postgres', q{ALTER SYSTEM SET pitr_restore.archive_compression = '19'});
$node->reload;
$node->command_ok([ 'pgbench', '-n', '-t', '1000', '-c', '2', '-p', $node->port,
	'-h', $node->host, 'postgres' ], 'pgbench writes a segment to archive slowly');
my $archiver = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'});
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
my $temp;
for (1 .. 1200)
{
	($temp) = glob("$archive/.pitrtmp.*");
	last if $temp;
	usleep(25_000);
}
ok($temp, 'the archiver was caught writing a temporary file');
kill 'KILL', $archiver;
my $killed_name = $temp ? basename($temp) =~ s/^\.pitrtmp\.([^.]+(?:\.zst)?).*/$1/r : '';
# The test clusters run with restart_after_crash = off: start it again.
my $pidfile = $node->data_dir . '/postmaster.pid';
for (1 .. 600)
{
	last unless -e $pidfile;
	usleep(50_000);
}
$node->_update_pid(0);
$node->start;
$node->safe_psql('postgres', q{ALTER SYSTEM SET pitr_restore.archive_compression = '1'});
$node->reload;
workload($node, 'd', 20);
wait_archived($node);
ok(-f "$archive/$killed_name" && -f "$archive/$killed_name.pitrsum",
	"archiving resumed: $killed_name and its sidecar are there");
my $not_ok = $node->safe_psql('postgres', q{
SELECT count(*) FROM pitr_restore.scan_archive(),
       pitr_restore.archive_file
 WHERE archive_id = pitr_restore.indexed_archive() AND kind = 'segment' AND status <> 'ok'});
is($not_ok, '0', 'after the kill every segment in the archive is good');
@segs = grep { /^[0-9A-F]{24}\.zst$/ } map { basename($_) } glob("$archive/*");
sidecars_equal_index('after the kill');

# A segment archived again (its .done lost, as after a crash between the
# rename and the archiver's bookkeeping) is found identical: success, the
# file is left as it was, and its missing sidecar is written again.
my $again = $node->safe_psql('postgres', 'SELECT last_archived_wal FROM pg_stat_archiver');
my $status_dir = $node->data_dir . '/pg_wal/archive_status';
ok(-f "$status_dir/$again.done" && -f $node->data_dir . "/pg_wal/$again",
	"$again is still in pg_wal, archived");
my @before = stat("$archive/$again.zst");
unlink("$archive/$again.zst.pitrsum");
rename("$status_dir/$again.done", "$status_dir/$again.ready") or die;
$log_offset = -s $node->logfile;
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->wait_for_log(qr/archive file "\Q$archive\/$again.zst\E" already exists with identical contents/,
	$log_offset);
$node->poll_query_until('postgres', 'SELECT true')
  or die;
for (1 .. 600)
{
	last if -f "$archive/$again.zst.pitrsum";
	usleep(50_000);
}
my @after = stat("$archive/$again.zst");
is("$after[1] $after[9] $after[7]", "$before[1] $before[9] $before[7]",
	'an identical file already archived is left as it was');
is($node->safe_psql('postgres',
	"SELECT matches FROM pitr_restore.sidecar_summary('$archive/$again.zst.pitrsum')"),
	't', 'and its sidecar is written again');
sidecars_equal_index('after archiving a segment again');

# An edited sidecar, one moved to another file, or a changed archived file
# no longer match.
my $victim = $segs[1];
my $dir2 = PostgreSQL::Test::Utils::tempdir('tamper');
copy("$archive/$victim", "$dir2/$victim") or die;
copy("$archive/$victim.pitrsum", "$dir2/$victim.pitrsum") or die;
my $sum = sub {
	my ($path) = @_;
	my $row = $node->safe_psql('postgres', qq{
SELECT status, matches, coalesce(problem, '')
  FROM pitr_restore.sidecar_summary('$path')});
	return [ split /\|/, $row, 3 ];
};
is_deeply($sum->("$dir2/$victim.pitrsum")->[1], 't', 'the copied sidecar matches its copied file');
my $text = slurp_file("$dir2/$victim.pitrsum");
(my $edited = $text) =~ s/^commits (\d+)$/'commits ' . ($1 + 1)/me;
isnt($edited, $text, 'the commit count was edited');
open($fh, '>', "$dir2/$victim.pitrsum") or die;
print $fh $edited;
close($fh);
my $r = $sum->("$dir2/$victim.pitrsum");
is($r->[0], 'bad_checksum', 'an edited sidecar is refused by its own checksum');
is($r->[1], 'f', 'an edited sidecar does not match');
open($fh, '>', "$dir2/$victim.pitrsum") or die;
print $fh substr($text, 0, length($text) - 20);
close($fh);
is($sum->("$dir2/$victim.pitrsum")->[0], 'truncated', 'a torn sidecar is refused');
copy("$archive/$victim.pitrsum", "$dir2/$segs[2].pitrsum") or die;
copy("$archive/$segs[2]", "$dir2/$segs[2]") or die;
$r = $sum->("$dir2/$segs[2].pitrsum");
is($r->[1], 'f', 'a sidecar put next to another file does not match');
like($r->[2], qr/describes "\Q$victim\E"/, 'and says which file it describes');
copy("$archive/$victim.pitrsum", "$dir2/$victim.pitrsum") or die;
open($fh, '+<', "$dir2/$victim") or die;
binmode $fh;
seek($fh, 100, 0);
my $byte;
read($fh, $byte, 1);
seek($fh, 100, 0);
print $fh chr(ord($byte) ^ 0xFF);
close($fh);
$r = $sum->("$dir2/$victim.pitrsum");
is($r->[1], 'f', 'a sidecar does not match a file whose bytes changed');
like($r->[2], qr/CRC-32C/, 'the checksum is what tells');
# The parser on forged input: sidecars edited and resealed with a correct
# CRC-32C (so that the parser, not the checksum, has to judge them) give a
# status, never an ERROR or a crash.
my ($body) = $text =~ /\A(.*\n)end [0-9a-f]{8}\n\z/s;
is(reseal_sidecar($body), $text, 'the sidecar ends with the CRC-32C of what precedes its last line');
srand(20261125);
my @pieces = (' ', '%', '%0', '%00', '-', '=', '/', '0/0', "\t", 'event', '99999999999999999999999',
	'-1', 'x', '', "\x00", '.5', 'FFFFFFFFF/0');
my $nfuzz = 200;
for my $i (1 .. $nfuzz)
{
	my @lines = split /(?<=\n)/, $body;
	my $l = int(rand(@lines));
	my $how = $i % 5;
	if ($how == 0) { splice(@lines, $l, 1) unless $l == 0; }
	elsif ($how == 1) { splice(@lines, $l, 0, $lines[int(rand(@lines))]); }
	elsif ($how == 2) { substr($lines[$l], int(rand(length($lines[$l]))), 1) = $pieces[int(rand(@pieces))]; }
	elsif ($how == 3) { $lines[$l] =~ s/ \S+/ $pieces[int(rand(@pieces))]/; }
	else { $lines[$l] = substr($lines[$l], 0, int(rand(length($lines[$l])))) . "\n"; }
	open($fh, '>', "$dir2/fuzz$i.pitrsum") or die;
	binmode $fh;
	print $fh reseal_sidecar(join('', @lines));
	close($fh);
}
my $fuzz = $node->safe_psql('postgres', qq{
SELECT string_agg(status || ':' || n, ' ' ORDER BY status) FROM (
  SELECT status, count(*) AS n FROM generate_series(1, $nfuzz) i,
         pitr_restore.sidecar_summary('$dir2/fuzz' || i || '.pitrsum') s
   GROUP BY status) x});
note("forged sidecars: $fuzz");
like($fuzz, qr/syntax:\d+/, 'forged sidecars are refused as malformed');
unlike($fuzz, qr/bad_checksum|truncated/, 'resealed sidecars pass the checksum and reach the parser');
ok($node->safe_psql('postgres', 'SELECT true') eq 't', 'the server survived every forged sidecar');

# A restore that promotes and archives into the same archive through the
# module: the first segment of the new timeline takes as predecessor the
# parent timeline's segment, by the history file, as the scan does.
my $res2 = resolve($node, "target_name => 'rp_mod'");
my $promo = promote($node, $res2, 'promoted', module_archive => $archive);
# Index the history before the new timeline's first segment arrives: a scan
# that finds both at once does not yet follow the new history for that
# segment (it reads the history rows it has just inserted with the
# function's snapshot), and summarises it without a predecessor.
for (1 .. 600)
{
	last if -f "$archive/00000002.history";
	usleep(50_000);
}
$node->safe_psql('postgres', 'SELECT pitr_restore.scan_archive()');
workload($promo, 'p', 200);
wait_archived($promo);
ok(-f "$archive/00000002.history", 'the new timeline\'s history is archived');
sidecars_equal_index('after a promotion archived into the same archive');
my $segsize = $node->safe_psql('postgres',
	"SELECT setting FROM pg_catalog.pg_settings WHERE name = 'wal_segment_size'");
# Its summary starts where its predecessor's ends (the segment's start when
# that one ends with a WAL switch), and its first record is there or, at a
# segment's start, just past the page header.
my $first2 = $node->safe_psql('postgres', qq{
SELECT coalesce(s.prev_file, '') || ' ' ||
       coalesce((s.start_lsn = p.next_lsn)::text, 'null') || ' ' ||
       coalesce((s.first_lsn = s.start_lsn
                 OR (s.start_lsn - '0/0'::pg_lsn) % $segsize = 0
                    AND s.first_lsn - s.start_lsn = 40)::text, 'null')
  FROM pitr_restore.archive_file af
 CROSS JOIN LATERAL pitr_restore.sidecar_summary('$archive/' || af.file_name || '.pitrsum') s
  LEFT JOIN LATERAL pitr_restore.sidecar_summary('$archive/' || s.prev_file || '.pitrsum') p ON true
 WHERE af.archive_id = pitr_restore.indexed_archive() AND af.kind = 'segment'
   AND af.timeline = 2
 ORDER BY af.segno LIMIT 1});
like($first2, qr/^00000001[0-9A-F]{16}(\.zst)? true true$/,
	'the first segment of timeline 2 starts from its predecessor on timeline 1');
$promo->stop;

my ($st, $ok) = ($node->psql('postgres',
	"SET ROLE pg_read_server_files; SELECT pitr_restore.sidecar_summary('$dir2/$victim.pitrsum')"));
isnt($st, 0, 'the internal sidecar reader is granted to nobody');

$node->stop;
done_testing();
