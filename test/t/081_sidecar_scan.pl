# scan_archive trusts the archive module's sidecars: a scan of an archive
# the module wrote reads only sidecars and indexes exactly what a scan of
# the WAL indexes, the relation files each segment touches included (also
# from scan workers); a stale or edited sidecar is ignored with a NOTICE; a
# new timeline's history and first segment found by one scan give that
# segment its predecessor on the parent timeline.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($node, $archive) = new_primary(name => 'scprimary', module => 1,
	archive_name => 'scarchive');
pgbench_around_backup($node, scale => 2, runs => [ 800, 800 ], restore_point => 'rp_sc');

# A flat copy without the sidecars, scanned by reading the WAL.
my $flat = PostgreSQL::Test::Utils::tempdir('scflat');
my ($sidecar_bytes, $other_bytes, $nsegs);
sub copy_flat
{
	($sidecar_bytes, $other_bytes, $nsegs) = (0, 0, 0);
	for my $p (glob("$archive/*"))
	{
		my $b = basename($p);
		if ($b =~ /\.pitrsum$/)
		{
			$sidecar_bytes += -s $p;
			next;
		}
		$nsegs++ if $b =~ /^[0-9A-F]{24}(\.partial)?(\.zst)?$/;
		$other_bytes += -s $p if $b =~ /\.(history|backup)$/;
		copy($p, "$flat/$b") or die "copy $b: $!" unless -e "$flat/$b";
	}
}

# Timeline 1 is indexed (resolve_target scans the archive) ...
copy_flat();
my $res = resolve($node, "target_name => 'rp_sc'");
is($res->{reachable}, 't', 'the restore point is reachable') or diag($res->{reason});
$node->safe_psql('postgres', "SELECT pitr_restore.scan_archive('$flat')");

# ... then a restore promotes and archives timeline 2 into the archive
# through the module, so the next scan finds timeline 2's history and first
# segment together.
my $promo = promote($node, $res, 'scpromoted', module_archive => $archive);
workload($promo, 'p', 200);
$promo->command_ok([ 'pgbench', '-n', '-t', '300', '-c', '2', '-p', $promo->port,
	'-h', $promo->host, 'postgres' ], 'pgbench runs on timeline 2');
wait_archived($promo);
$promo->stop;
ok(-f "$archive/00000002.history", 'timeline 2 is archived into the same archive');
copy_flat();
cmp_ok($nsegs, '>=', 6, "the module archived $nsegs segments");

# The module's archive: one scan reads the sidecars (and the small history
# and backup history files), never a segment.
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT pitr_restore.scan_archive('$archive')");
is($ret, 0, 'timeline 2 is scanned');
unlike($err, qr/sidecar/, 'no sidecar is ignored, not even timeline 2\'s first segment\'s')
  or diag($err);
$node->safe_psql('postgres', 'DELETE FROM pitr_restore.archive');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT segments_total, segments_scanned, bytes_read FROM pitr_restore.scan_archive('$archive')");
is($ret, 0, 'the module archive scans');
my ($total, $scanned, $bytes) = split /\|/, $out;
is($total, $nsegs, 'every segment is counted');
is($scanned, $nsegs, 'every segment is indexed');
is($bytes, $sidecar_bytes + $other_bytes,
	"bytes_read counts only sidecars and history files ($bytes bytes)");
unlike($err, qr/sidecar/, 'no sidecar is ignored') or diag($err);

# The same index as reading the WAL (timeline 2 found by an incremental
# scan of the flat copy too).
$node->safe_psql('postgres', "SELECT pitr_restore.scan_archive('$flat')");
my %q = (
	segments => q{SELECT file_name, timeline, start_lsn, end_lsn, kind, compression,
       file_size, status, detail, first_record_lsn, next_record_lsn, records,
       commits, aborts, first_commit_time, last_commit_time, min_xid, max_xid,
       restore_points, has_switch, wal_level_minimal
  FROM pitr_restore.segments('DIR') ORDER BY 1},
	restore_points => q{SELECT * FROM pitr_restore.restore_points('DIR') ORDER BY lsn, timeline, name},
	timelines => q{SELECT * FROM pitr_restore.timelines('DIR') ORDER BY 1},
	# the relation files each segment touches (format 3 sidecars carry
	# them); segments() first, which brings the index up to date
	relations => q{DO $$BEGIN PERFORM count(*) FROM pitr_restore.segments('DIR'); END$$;
SELECT f.file_name, s.dbs, s.relfilenodes
  FROM pitr_restore.archive_file f
  LEFT JOIN pitr_restore.segment_relations s
    ON s.archive_id = f.archive_id AND s.file_name = f.file_name
 WHERE f.archive_id = (SELECT archive_id FROM pitr_restore.archive
                        WHERE directory = pitr_restore.archive_path('DIR'))
   AND f.kind IN ('segment', 'partial') ORDER BY 1});
sub index_of
{
	my ($dir, $what) = @_;
	return $node->safe_psql('postgres', $q{$what} =~ s/DIR/$dir/gr);
}
for my $what (sort keys %q)
{
	my $a = index_of($archive, $what);
	isnt($a, '', "$what of the module archive are not empty");
	is($a, index_of($flat, $what), "$what: sidecars give what reading the WAL gives");
}
like(index_of($archive, 'timelines'), qr/^2\|1\|/m, 'timeline 2 branches from 1');
unlike(index_of($archive, 'relations'), qr/\|\|$/m,
	'every segment\'s relations are known from its sidecar');

# The first segment of timeline 2 starts from its predecessor on timeline
# 1, also when its history was found by the same scan (a scan of the flat
# copy reads it from the WAL).
my $first2 = $node->safe_psql('postgres', qq{
SELECT f.file_name, f.first_lsn, s.first_lsn, s.prev_file, s.start_lsn
  FROM pitr_restore.archive_file f,
       pitr_restore.sidecar_summary('$archive/' || f.file_name || '.pitrsum') s
 WHERE f.archive_id = (SELECT archive_id FROM pitr_restore.archive
                        WHERE directory = pitr_restore.archive_path('$flat'))
   AND f.kind = 'segment' AND f.timeline = 2
 ORDER BY f.segno LIMIT 1});
my @f2 = split /\|/, $first2;
ok($f2[1] eq $f2[2] && $f2[3] =~ /^00000001/ && $f2[4] ne '0/0',
	'timeline 2\'s first segment is read from its predecessor on timeline 1')
  or diag($first2);

# Parallel and serial scans of the flat copy give the same index.
sub rescan
{
	my ($dir, $workers) = @_;
	$node->safe_psql('postgres',
		"DELETE FROM pitr_restore.archive WHERE directory = pitr_restore.archive_path('$dir')");
	my ($r, $o, $e) = $node->psql('postgres', qq{
SET pitr_restore.scan_workers = $workers;
SET client_min_messages = debug1;
SELECT segments_scanned FROM pitr_restore.scan_archive('$dir')});
	die "scan failed: $e" if $r;
	return ($o, $e);
}
my ($o0, $e0) = rescan($flat, 0);
unlike($e0, qr/background worker/, 'scan_workers = 0 reads in the backend');
my %serial = map { $_ => index_of($flat, $_) } keys %q;
my ($o2, $e2) = rescan($flat, 2);
like($e2, qr/reading \d+ segments in 2 background workers/, 'scan_workers = 2 starts two workers');
is($o2, $o0, 'both scans index every segment');
is(index_of($flat, $_), $serial{$_}, "$_: a parallel scan gives what a serial scan gives")
  for sort keys %q;

# A cancelled parallel scan leaves no worker behind.
my $pm = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
sub workers_left
{
	my $ps = `ps -o args= --ppid $pm`;
	return scalar(grep { /pitr_restore scan worker/ } split /\n/, $ps);
}
# Statement timeouts from 2 ms up, until one cancels the scan while its
# workers run; after every cancel no worker is left.
my ($cancelled, $while_running, $left_after) = (0, 0, 0);
for (my $ms = 2; $ms <= 400 && !$while_running; $ms += 3)
{
	$node->safe_psql('postgres',
		"DELETE FROM pitr_restore.archive WHERE directory = pitr_restore.archive_path('$flat')");
	my ($r, $o, $e) = $node->psql('postgres', qq{
SET pitr_restore.scan_workers = 2;
SET client_min_messages = debug1;
SET statement_timeout = '${ms}ms';
SELECT pitr_restore.scan_archive('$flat')});
	next unless $e =~ /canceling statement due to statement timeout/;
	$cancelled++;
	$while_running = 1 if $e =~ /reading \d+ segments in 2 background workers/;
	my $left;
	for (1 .. 100)
	{
		$left = workers_left();
		last if $left == 0;
		usleep(50_000);
	}
	$left_after += $left;
}
cmp_ok($cancelled, '>=', 1, "parallel scans were cancelled ($cancelled)");
ok($while_running, 'a scan was cancelled after starting its workers');
is($left_after, 0, 'no scan worker is left after a cancel');
my ($o3) = rescan($flat, 2);
is($o3, $o0, 'a scan after the cancel indexes every segment');

# A worker's error reaches the caller as the worker raised it, SQLSTATE
# included: a worker terminated while it reads fails the scan with its own
# message (57P01), naming the worker.  Until one is caught running.
my $forwarded = '';
for (my $try = 0; $try < 30 && $forwarded eq ''; $try++)
{
	$node->safe_psql('postgres',
		"DELETE FROM pitr_restore.archive WHERE directory = pitr_restore.archive_path('$flat')");
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'VERBOSITY=verbose', '-d', $node->connstr('postgres'),
		  '-c', 'SET pitr_restore.scan_workers = 2',
		  '-c', "SELECT segments_scanned FROM pitr_restore.scan_archive('$flat')" ],
		'>', \$stdout, '2>', \$stderr);
	my $victim;
	while (!defined $victim && $h->pumpable)
	{
		($victim) = map { /^\s*(\d+)\s.*pitr_restore scan worker/ ? $1 : () }
		  split /\n/, `ps -o pid=,args= --ppid $pm`;
		$h->pump_nb;
	}
	kill 'TERM', $victim if defined $victim;
	$h->finish;
	$forwarded = $stderr if $stderr =~ /ERROR/;
}
like($forwarded, qr/ERROR:  57P01: terminating background worker "pitr_restore scan worker" due to administrator command/,
	'a scan worker\'s error reaches the caller with its own SQLSTATE and message');
like($forwarded, qr/CONTEXT:  .*pitr_restore scan worker \d/s, 'the error names the worker');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server answers after a worker was terminated');

# A stale sidecar (its segment rewritten: another mtime) and an edited one
# are ignored with a NOTICE; the summary is still right.
my @tl1 = sort grep { /^00000001[0-9A-F]{16}\.zst$/ } map { basename($_) } glob("$archive/*");
my ($stale, $edited) = @tl1[1, 2];
die 'too few segments' unless $edited;
utime(time() + 5, time() + 5, "$archive/$stale") or die;
my $text = slurp_file("$archive/$edited.pitrsum");
$text =~ s/^(records )(\d+)/$1 . ($2 + 1)/me or die 'no records line';
open(my $fh, '>', "$archive/$edited.pitrsum") or die;
print $fh $text;
close($fh);
# Forget the index, so the edited sidecar's segment is looked at again.
$node->safe_psql('postgres',
	"DELETE FROM pitr_restore.archive WHERE directory = pitr_restore.archive_path('$archive')");
($ret, $out, $err) = $node->psql('postgres',
	"SELECT segments_scanned, bytes_read FROM pitr_restore.scan_archive('$archive')");
is($ret, 0, 'the archive scans again');
like($err, qr/NOTICE:  ignoring sidecar "\Q$archive\/$stale.pitrsum\E"/,
	'the stale sidecar is ignored with a NOTICE');
like($err, qr/NOTICE:  ignoring sidecar "\Q$archive\/$edited.pitrsum\E"/,
	'the edited sidecar is ignored with a NOTICE');
($scanned, $bytes) = split /\|/, $out;
cmp_ok($bytes, '>', $sidecar_bytes + $other_bytes, 'their segments were read');
for my $what (sort keys %q)
{
	my $a = index_of($archive, $what) =~ s/^\Q$stale\E\|.*$//mr;
	my $b = index_of($flat, $what) =~ s/^\Q$stale\E\|.*$//mr;
	is($a, $b, "$what: still what reading the WAL gives");
}

done_testing();
