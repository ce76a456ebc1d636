# What resolve_target certifies is the archive as it is at the call, segment
# by segment: a segment truncated in place, a diverged clone's segment of
# the same name, a resealed sidecar that names a restore point that is not
# there, and another session's scan in progress.  Each verdict is checked
# against check_archive() or a real recovery.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use POSIX ();
use Time::HiRes ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my ($node, $archive) = new_primary(name => 'certify');
$node->safe_psql('postgres', 'CREATE TABLE filler (v text)');
wait_archived($node);
$node->backup('b1');

# Several segments of WAL after the backup, then the targets.
for my $i (1 .. 3)
{
	workload($node, "w${i}_", 20);
	$node->safe_psql('postgres',
		"INSERT INTO filler SELECT repeat('x', 200) FROM generate_series(1, 20000)");
	$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
}
workload($node, 'a', 10);
my $rp_lsn = $node->safe_psql('postgres', "SELECT pg_create_restore_point('rp1')");
workload($node, 'b', 10);
wait_archived($node);
my $xid_b5 = xid_of($node, 'b5');

my $r = resolve($node, "target_name => 'rp1'");
is($r->{reachable}, 't', 'rp1 is reachable from b1') or diag($r->{reason});

# ---------------------------------------------------------------------
# A segment on the path truncated in place: the directory's mtime does not
# change, the file's size does.
# ---------------------------------------------------------------------
my $victim = $node->safe_psql('postgres', qq{
	SELECT file_name FROM pitr_restore.segments() s
	 WHERE s.file_name < pg_walfile_name('$rp_lsn') AND s.status = 'ok'
	 ORDER BY file_name DESC LIMIT 1});
my $saved = "$archive/../victim.save";
copy("$archive/$victim", $saved) or die;
truncate("$archive/$victim", 1000) or die;

$r = resolve($node, "target_name => 'rp1'");
is($r->{reachable}, 'f', 'truncated in place: rp1 is not reachable');
like($r->{reason}, qr/\Q$victim\E/, 'the reason names the truncated segment');
$r = resolve($node, "target_xid => '$xid_b5'");
is($r->{reachable}, 'f', 'truncated in place: an xid past it is not reachable');
like($node->safe_psql('postgres',
		"SELECT string_agg(problem || ': ' || detail, E'\\n') FROM pitr_restore.check_archive()"),
	qr/\Q$victim\E/, 'check_archive() names the truncated segment');

copy($saved, "$archive/$victim") or die;
$r = resolve($node, "target_name => 'rp1'");
is($r->{reachable}, 't', 'the segment put back: rp1 is reachable again')
  or diag($r->{reason});
my $rec = recover($node, $r);
is(row_count($rec, "tag IN ('a10', 'b1')"), '1', 'a real recovery stops at rp1');
$rec->stop('fast');

# ---------------------------------------------------------------------
# One session keeps the index's stamps between its calls (read again only
# when the index changes): a file changed between two calls of the same
# session is still seen, whether its size changes or only its ctime and
# content (same size, mtime put back).
# ---------------------------------------------------------------------
my $one_session = sub {
	my ($change) = @_;
	return $node->safe_psql('postgres', qq{
SELECT reachable FROM pitr_restore.resolve_target(target_name => 'rp1');
SELECT reachable FROM pitr_restore.resolve_target(target_name => 'rp1');
\\! $change
SELECT reachable FROM pitr_restore.resolve_target(target_name => 'rp1');
\\! cp '$saved' '$archive/$victim'
SELECT reachable FROM pitr_restore.resolve_target(target_name => 'rp1');
});
};
is($one_session->("truncate -s 1000 '$archive/$victim'"), "t\nt\nf\nt",
	'one session: a segment truncated in place between two calls is seen, and put back');
my $gen = $node->safe_psql('postgres', 'SELECT index_generation FROM pitr_restore.archive');
is($one_session->("dd if=/dev/zero of='$archive/$victim' bs=8192 count=1 seek=2 conv=notrunc status=none && touch -r '$saved' '$archive/$victim'"),
	"t\nt\nf\nt",
	'one session: a segment rewritten in place (same size, mtime put back) is seen');
cmp_ok($node->safe_psql('postgres', 'SELECT index_generation FROM pitr_restore.archive'),
	'>', $gen, 'the refresh of the rewritten segment moved the index generation on');
is($node->safe_psql('postgres', q{
	BEGIN;
	SELECT index_generation FROM pitr_restore.archive \\gset
	UPDATE pitr_restore.archive_file SET detail = detail;
	UPDATE pitr_restore.archive_file SET detail = detail;
	SELECT index_generation - :index_generation FROM pitr_restore.archive;
	ROLLBACK}), '1', 'any change of archive_file moves the generation, once per transaction');

# ---------------------------------------------------------------------
# A diverged clone: the backup started as a primary of its own, same
# system, same timeline, same segment names, other WAL.
# ---------------------------------------------------------------------
my $clone = PostgreSQL::Test::Cluster->new('clone');
$clone->init_from_backup($node, 'b1');
$clone->append_conf('postgresql.conf', "archive_mode = off\nmax_wal_size = 1GB\n");
$clone->start;
for my $i (1 .. 5)
{
	$clone->safe_psql('postgres',
		"INSERT INTO filler SELECT repeat('y', 100) FROM generate_series(1, 5000)");
	$clone->safe_psql('postgres', 'SELECT pg_switch_wal()');
}
my $clone_cur = $clone->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
my $clone_wal = $clone->data_dir . '/pg_wal';
my $rp_seg = $node->safe_psql('postgres', "SELECT pg_walfile_name('$rp_lsn')");
opendir(my $dh, $clone_wal) or die;
my @common = sort grep {
	/^[0-9A-F]{24}$/ && $_ lt $clone_cur && $_ le $rp_seg && -f "$archive/$_"
} readdir($dh);
closedir $dh;
my $swap = $common[-1];
ok(defined $swap, "a segment name both wrote: $swap");
my $orig = "$archive/../swap.save";
copy("$archive/$swap", $orig) or die;
copy("$clone_wal/$swap", "$archive/$swap") or die;
$clone->stop('fast');

$r = resolve($node, "target_xid => '$xid_b5'");
is($r->{reachable}, 'f', "a clone's segment on the path: an xid past it is not reachable");
like($node->safe_psql('postgres', qq{
	SELECT string_agg(file_name || ' ' || status || ' ' || coalesce(detail, ''), E'\\n')
	  FROM pitr_restore.segments() WHERE status <> 'ok'}),
	qr/does not follow/, 'the chain break is named where the WAL breaks');
$r = resolve($node, "target_name => 'rp1'");
is($r->{reachable}, 'f', "a clone's segment on the path: rp1 is not reachable");
copy($orig, "$archive/$swap") or die;
$r = resolve($node, "target_xid => '$xid_b5'");
is($r->{reachable}, 't', 'the original put back: the xid is reachable again')
  or diag($r->{reason});
$rec = recover($node, $r);
is(row_count($rec, "tag = 'b5'"), '1', 'a real recovery reaches the xid');
$rec->stop('fast');

# ---------------------------------------------------------------------
# Another session's scan in progress: never a false reason.
# ---------------------------------------------------------------------
workload($node, 'c', 5);
wait_archived($node);
my $xid_c3 = xid_of($node, 'c3');
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; SELECT pitr_restore.scan_archive()});
my $res = $node->safe_psql('postgres', qq{
	SET lock_timeout = '300ms';
	SELECT reachable::text || '|' || coalesce(reason, '')
	  FROM pitr_restore.resolve_target(target_xid => '$xid_c3')});
my ($reach, $why) = split /\|/, $res, 2;
ok($reach eq 't' || $why =~ /being refreshed by another session; try again/,
	"a scan held open: the right answer or the honest reason ($res)");
$holder->query_safe('COMMIT');
$holder->quit;
$r = resolve($node, "target_xid => '$xid_c3'");
is($r->{reachable}, 't', 'once it committed: reachable') or diag($r->{reason});

# ---------------------------------------------------------------------
# The archive module: a resealed sidecar that names a restore point the
# WAL does not hold there; a directory and a FIFO in place of the last
# segment's sidecar after a restart.
# ---------------------------------------------------------------------
my ($mod, $marchive) = new_primary(name => 'certify_module', module => 1,
	archive_name => 'marchive');
wait_archived($mod);
$mod->backup('mb1');
workload($mod, 'm', 10);
$mod->safe_psql('postgres', "SELECT pg_create_restore_point('real_rp')");
workload($mod, 'n', 10);
wait_archived($mod);

# A copy of the archive (times kept to the nanosecond), never scanned, whose
# sidecar is edited and resealed with a correct checksum.
my $copy = PostgreSQL::Test::Utils::tempdir('mcopy');
system("cp -p $marchive/* $copy/") == 0 or die;
my ($sidecar) = grep { slurp_file($_) =~ /=real_rp\n/ } glob("$copy/*.pitrsum");
ok(defined $sidecar, 'the sidecar that holds real_rp');
my $text = slurp_file($sidecar);
my ($stamp) = (stat($sidecar))[9];
$text =~ s/end [0-9a-f]{8}\n\z//;
$text =~ s/=real_rp\n/=forged\n/;
$text = reseal_sidecar($text);
open(my $fh, '>', $sidecar) or die;
print $fh $text;
close $fh;
my $f = $mod->safe_psql('postgres', qq{
	SELECT reachable::text || '|' || coalesce(reason, '') || '|' || coalesce(recovery_conf, '')
	  FROM pitr_restore.resolve_target(target_name => 'forged', archive_dir => '$copy')});
like($f, qr/^false\|/, 'a resealed sidecar: the forged restore point is not reachable');
like($f, qr/no restore point named "forged" begins at/, 'the reason says the WAL does not hold it');
$f = $mod->safe_psql('postgres', qq{
	SELECT reachable FROM pitr_restore.resolve_target(target_name => 'real_rp', archive_dir => '$copy')});
is($f, 'f', 'nor is the real one, which the index does not know under its name');

# A real recovery asked for the forged name agrees: it never reaches it.
my $fr = PostgreSQL::Test::Cluster->new('forged_recovery');
$fr->init_from_backup($mod, 'mb1');
$fr->append_conf('postgresql.conf', qq{
archive_mode = off
archive_library = ''
restore_command = 'zstd -d -q -c $copy/%f.zst > %p 2>/dev/null || cp $copy/%f %p'
recovery_target_name = 'forged'
recovery_target_action = 'pause'
});
$fr->set_recovery_mode;
# pg_ctl itself: the server may be gone before a pid file can be read
system('pg_ctl', '-D', $fr->data_dir, '-l', $fr->logfile, '-w', 'start');
my $ended = 0;
for (1 .. 300)
{
	if (slurp_file($fr->logfile) =~ /recovery ended before configured recovery target was reached/)
	{
		$ended = 1;
		last;
	}
	select(undef, undef, undef, 0.1);
}
ok($ended, 'a real recovery to the forged name ends before reaching it');
system('pg_ctl', '-D', $fr->data_dir, '-m', 'immediate', 'stop') if -e $fr->data_dir . '/postmaster.pid';

# A directory, then a FIFO, in place of the newest segment's sidecar.
for my $kind ('directory', 'FIFO')
{
	my @segs = sort grep { /\/[0-9A-F]{24}(\.zst)?$/ } glob("$marchive/*");
	my $last_sc = "$segs[-1].pitrsum";
	$mod->stop('fast');
	unlink($last_sc) or die "$last_sc: $!";
	if ($kind eq 'directory') { mkdir($last_sc) or die; }
	else { POSIX::mkfifo($last_sc, 0600) or die; }
	$mod->start;
	workload($mod, "after_$kind", 5);
	my $seg = $mod->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
	$mod->safe_psql('postgres', 'SELECT pg_switch_wal()');
	ok($mod->poll_query_until('postgres',
			"SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver"),
		"a $kind in place of the sidecar: archiving continues");
	my $t0 = time;
	$mod->stop('fast');
	ok(time - $t0 < 60, "a $kind in place of the sidecar: pg_ctl stop -m fast works");
	if ($kind eq 'directory') { rmdir($last_sc); } else { unlink($last_sc); }
	$mod->start;
}

# ---------------------------------------------------------------------
# A module archive (compression off) in which the segment holding the
# target is swapped for a diverged clone's: same name, same size, its mtime
# put back, its sidecar kept (which still describes the original).  Never
# scanned before: the scan trusts the sidecar; the certificate reads the
# WAL from the segment before it and finds it out.
# ---------------------------------------------------------------------
my ($m2, $m2arch) = new_primary(name => 'certify_module2', module => 1,
	archive_name => 'm2archive', conf => "pitr_restore.archive_compression = 'off'\n",
	sql => 'CREATE TABLE filler (v text);');
wait_archived($m2);
$m2->backup('m2b1');
for my $i (1 .. 3)
{
	workload($m2, "q${i}_", 10);
	$m2->safe_psql('postgres', "INSERT INTO filler SELECT repeat('x', 200) FROM generate_series(1, 20000)");
	$m2->safe_psql('postgres', 'SELECT pg_switch_wal()');
}
workload($m2, 'z', 10);
my $z5 = xid_of($m2, 'z5');
my $z5_time = commit_time_of($m2, 'z5');
my $z_seg = $m2->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
wait_archived($m2);

my ($c2, $c2_cur, $c2_wal) = diverged_clone($m2, 'm2b1', 'clone2',
	"archive_library = ''\nmax_wal_size = 1GB\n", sub {
		my ($c) = @_;
		for my $i (1 .. 6)
		{
			$c->safe_psql('postgres', "INSERT INTO filler SELECT repeat('y', 100) FROM generate_series(1, 5000)");
			$c->safe_psql('postgres', 'SELECT pg_switch_wal()');
		}
	});
SKIP:
{
	skip "the clone has no completed segment $z_seg", 5
	  unless -f "$c2_wal/$z_seg" && $z_seg lt $c2_cur && -f "$m2arch/$z_seg";
	my $fresh = PostgreSQL::Test::Utils::tempdir('m2copy');
	system("cp -p $m2arch/* $fresh/") == 0 or die;
	my @st = stat("$fresh/$z_seg");
	my $ref = "$fresh/../m2ref";
	system('cp', '-p', "$fresh/$z_seg", $ref) == 0 or die;
	copy("$c2_wal/$z_seg", "$fresh/$z_seg") or die;
	# touch -r keeps the nanoseconds the sidecar records
	system('touch', '-r', $ref, "$fresh/$z_seg") == 0 or die;
	my ($sc_size, $sc_mtime) = slurp_file("$fresh/$z_seg.pitrsum") =~ /^size (\d+)\nmtime (\S+)$/m;
	my $now = `stat -c '%s %.9Y' '$fresh/$z_seg'`;
	chomp $now;
	is($now, "$sc_size $sc_mtime", 'its kept sidecar still matches it by size and mtime');
	is(-s "$fresh/$z_seg", $st[7], 'the swapped segment has the size the sidecar describes');
	my $ans = $m2->safe_psql('postgres', qq{
		SELECT reachable::text || '|' || coalesce(reason, '')
		  FROM pitr_restore.resolve_target(target_xid => '$z5', archive_dir => '$fresh')});
	like($ans, qr/^false\|/, "a clone's segment under a kept sidecar: the xid in it is not reachable");
	like($ans, qr/does not follow|not continuous|does not end/, "and the reason says why ($ans)");
	# A time target: the clone's commits in that segment are later, so a
	# walk of its bytes alone would stop at one of them.
	$ans = $m2->safe_psql('postgres', qq{
		SELECT reachable::text || '|' || coalesce(reason, '')
		  FROM pitr_restore.resolve_target(target_time => '$z5_time', archive_dir => '$fresh')});
	like($ans, qr/^false\|.*does not follow/,
		"a clone's segment under a kept sidecar: a time target in it is not certified ($ans)");
}
$c2->stop('fast');

# ---------------------------------------------------------------------
# How far past its stop recovery reads.  With recovery_prefetch on it
# decodes WAL ahead of replay and restores segments past the stop, and it
# stops with FATAL on a plain archived segment of the wrong size, even past
# the stop.  The settings carry recovery_prefetch = off: recovery then reads
# up to the end of the stop record, no further.
# ---------------------------------------------------------------------

# Past the bound: a stop whose segment ends with a switch, the next segment
# truncated.  Reachable, and a real recovery from the settings stops there.
workload($node, 'ra', 5);
my $xid_ra = xid_of($node, 'ra5');
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
workload($node, 'rb', 5);
my $ahead = $node->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
wait_archived($node);
my $ok = resolve($node, "target_xid => '$xid_ra'");
is($ok->{reachable}, 't', 'read-ahead: the target before the switch is reachable')
  or diag($ok->{reason});
like($ok->{conf}, qr/^recovery_prefetch = 'off'$/m,
	'recovery_conf bounds the read-ahead (recovery_prefetch = off)');
copy("$archive/$ahead", "$archive/../ahead.save") or die;
truncate("$archive/$ahead", 100000) or die;
$r = resolve($node, "target_xid => '$xid_ra'");
is($r->{reachable}, 't',
	'read-ahead: a truncated plain segment past the end of the stop record leaves the target reachable')
  or diag($r->{reason});
is($r->{stop_lsn}, $ok->{stop_lsn}, 'and the stop is the same');
{
	my $n = recover($node, $r);
	is($n->safe_psql('postgres', "SELECT pg_last_wal_replay_lsn() = '$r->{end_lsn}'"),
		't', 'a real recovery with the emitted settings stops at the end of the stop record');
	is(row_count($n, "tag IN ('ra5', 'rb1')"), '1', 'with ra5 kept and rb1 lost');
	unlike(slurp_file($n->logfile), qr/has wrong size/, 'without reading the truncated segment');
	$n->stop('fast');
}
{
	# The same settings with read-ahead on: it dies on the truncated segment.
	my $conf = $r->{conf};
	$conf =~ s/^recovery_prefetch = 'off'$/recovery_prefetch = 'on'/m;
	my $n = PostgreSQL::Test::Cluster->new('readahead_on');
	$n->init_from_backup($node, basename($r->{location}));
	$n->append_conf('postgresql.auto.conf', $conf);
	$n->append_conf('postgresql.conf', "archive_mode = off\n");
	$n->set_recovery_mode;
	# pg_ctl may return once the server is consistent, before the stop:
	# wait for the end either way (the pause, or FATAL).
	$n->start(fail_ok => 1);
	for (1 .. 1200)
	{
		last if slurp_file($n->logfile) =~ /has wrong size|pausing at the end of recovery|recovery has paused/;
		Time::HiRes::usleep(100_000);
	}
	$n->stop('immediate', fail_ok => 1);
	like(slurp_file($n->logfile), qr/\Q$ahead\E" has wrong size/,
		'with recovery_prefetch = on the same recovery restores the truncated segment past the stop and dies');
}
copy("$archive/../ahead.save", "$archive/$ahead") or die;

# Within the bound: a stop record that begins in one segment and ends in
# the next.  That next segment is read; truncated, the target is not
# reachable and the reason names it.
# More WAL than a segment holds, without a switch: records cross segment
# boundaries.  The index counts a record in the segment it ends in: a
# segment whose first record begins before the segment does holds the end
# of a record that crosses into it.
$node->safe_psql('postgres',
	"INSERT INTO filler SELECT repeat('z', 200) FROM generate_series(1, 80000)");
wait_archived($node);
$node->safe_psql('postgres', 'SELECT * FROM pitr_restore.scan_archive()');
my $cross = $node->safe_psql('postgres', qq{
	SELECT s.first_lsn || '|' || s.file_name
	  FROM pitr_restore.archive a, pitr_restore.archive_file s
	 WHERE a.directory = '$archive' AND s.archive_id = a.archive_id
	   AND s.kind = 'segment' AND s.status = 'ok' AND s.compression = 'none'
	   AND s.first_lsn < '0/0'::pg_lsn + s.segno * a.segment_size::numeric
	 ORDER BY s.segno DESC LIMIT 1});
my ($cross_lsn, $next_seg) = split /\|/, $cross;
ok($cross_lsn, "a record crossing into $next_seg at $cross_lsn");
$ok = resolve($node, "target_lsn => '$cross_lsn', inclusive => true");
is($ok->{reachable}, 't', 'read-ahead: a stop record that crosses into the next segment is reachable')
  or diag($ok->{reason});
is($node->safe_psql('postgres', qq{
	SELECT wal_last FROM pitr_restore.resolve_target(target_lsn => '$cross_lsn', inclusive => true)}),
	$next_seg, 'and wal_last is the segment holding its end');
{
	my $n = recover($node, $ok);
	is($n->safe_psql('postgres', "SELECT pg_last_wal_replay_lsn() = '$ok->{end_lsn}'"),
		't', 'a real recovery stops at the end of the crossing record');
	$n->stop('fast');
}
copy("$archive/$next_seg", "$archive/../cross.save") or die;
truncate("$archive/$next_seg", 100000) or die;
$r = resolve($node, "target_lsn => '$cross_lsn', inclusive => true");
is($r->{reachable}, 'f',
	'read-ahead: the segment holding the end of the stop record truncated, the target is not reachable');
like($r->{reason}, qr/\Q$next_seg\E/, "and the reason names that segment ($r->{reason})");
copy("$archive/../cross.save", "$archive/$next_seg") or die;
$r = resolve($node, "target_xid => '$xid_ra'");
is($r->{reachable}, 't', 'read-ahead: the segments put back, the target is reachable again')
  or diag($r->{reason});

done_testing();
