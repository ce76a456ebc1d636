# check_archive(), each problem kind that test/t/070_windows.pl does not
# reach, with its exact wording and in the order the rows come: a restore
# point name used twice, an archive without WAL, no window on the live
# timeline and no usable backup at all, a hole on a timeline off the live
# timeline's history (a warning) and on it (critical), and a base backup
# that cannot be used.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary(name => 'check',
	conf => "autovacuum = off\n");
sub sql { $primary->safe_psql('postgres', shift) }
sub switch_wal { sql('SELECT pg_switch_wal()') }

# Timeline 1: backup b1, then several segments with the restore point
# "twice" made twice.
workload($primary, 'a', 10);
switch_wal();
$primary->backup('b1', backup_options => [ '--label', 'b1' ]);
for my $p ('b', 'c', 'd')
{
	workload($primary, $p, 10);
	switch_wal();
}
sql(q{SELECT pg_create_restore_point('twice')});
workload($primary, 'e', 10);
switch_wal();
sql(q{SELECT pg_create_restore_point('twice')});
workload($primary, 'f', 10);
wait_archived($primary);

# The problems, one line each, in the order check_archive returns them.
sub problems
{
	my ($args, $setup) = @_;
	return sql(($setup // '') . qq{
		SELECT string_agg(c.severity || ' ' || c.problem || ': ' || c.detail, E'\\n' ORDER BY c.n)
		  FROM pitr_restore.check_archive($args) WITH ORDINALITY
			   AS c(severity, problem, detail, n)});
}

my ($first, $last) = split /\|/, sql(q{
	SELECT min(lsn), max(lsn) FROM pitr_restore.restore_points() WHERE name = 'twice'});
my $twice = qq{warning repeated_restore_point: Restore point "twice" occurs 2 times in the archive (first at $first on timeline 1, last at $last on timeline 1): recovery_target_name stops at the first one replayed.};
is(problems(''), $twice, 'a restore point name made twice is the only problem, named with both places');

# An archive without WAL: that alone.
my $nowal = PostgreSQL::Test::Utils::tempdir('no_wal');
my $major = int(sql('SHOW server_version_num') / 10000);
like(problems("'$nowal'"),
	qr{^critical no_wal: The archive "[^"\n]*no_wal[^"\n]*" holds no readable PostgreSQL $major WAL segment\.$},
	'an archive without WAL: no_wal alone, naming the server\'s major version');

# No usable backup: the backup directory is empty (a scan reads it again).
my $empty = PostgreSQL::Test::Utils::tempdir('no_backups');
is(problems('', "SET pitr_restore.backup_dir = '$empty'; DO 'BEGIN PERFORM pitr_restore.scan_archive(); END';"),
	join("\n",
		'critical no_window: No time on timeline 1, the live timeline, can be restored: no usable base backup has continuous WAL into it.',
		q{critical backup_old: No base backup in pitr_restore.backup_dir can be restored with this archive's WAL.},
		$twice),
	'without a usable backup: no window on the live timeline, and no backup (critical)');
sql('SELECT pitr_restore.scan_archive()');
is(problems(''), $twice, 'with the backups read again, only the restore point is reported');

# A copy of the archive without a segment between b1's consistency point
# and the end: the window of timeline 1 ends at it and nothing follows.
my $victim = sql(q{
	SELECT s.file_name FROM pitr_restore.segments() s, pitr_restore.backups() b
	 WHERE b.label = 'b1' AND s.timeline = 1 AND s.start_lsn > b.stop_lsn
	 ORDER BY s.start_lsn OFFSET 1 LIMIT 1});
ok($victim, "a segment to delete: $victim");
my $holed = copy_archive($archive, 'holed');
unlink "$holed/$victim" or die;
my $to_time = sql(qq{
	SELECT to_time FROM pitr_restore.recovery_windows('$holed') WHERE timeline = 1});
like(problems("'$holed'"),
	qr/^critical wal_gap: WAL on timeline 1 is not continuous: missing segment \Q$victim\E, so times from \Q$to_time\E on cannot be restored on that timeline\.$/m,
	'a hole on the live timeline is critical, and nothing restores past it');

# The same, with a history file saying the live timeline, 3, descends
# from timeline 2 only: timeline 1 is off its history, so its hole is a
# warning, and timeline 3 has no window.
my $forged = copy_archive($archive, 'forged');
unlink "$forged/$victim" or die;
open(my $fh, '>', "$forged/00000003.history") or die;
print $fh "2\t0/1000000\tno recovery target specified\n";
close $fh;
is(problems("'$forged'"),
	join("\n",
		"warning wal_gap: WAL on timeline 1 is not continuous: missing segment $victim, so times from $to_time on cannot be restored on that timeline.",
		'critical no_window: No time on timeline 3, the live timeline, can be restored: no usable base backup has continuous WAL into it.',
		$twice),
	'a hole off the live timeline\'s history is a warning; the live timeline without a window is critical');

# A copy of b1 whose pg_control is cut short cannot be used.
my $bad = $primary->backup_dir . '/b1_bad';
PostgreSQL::Test::RecursiveCopy::copypath($primary->backup_dir . '/b1', $bad);
truncate("$bad/global/pg_control", 100) or die;
sql('SELECT pitr_restore.scan_archive()');
my $problems = problems('');
like($problems,
	qr/^warning backup_unusable: Base backup "b1_bad" in \Q$bad\E cannot be used: [^\n]*pg_control[^\n]*[^.]\.$/m,
	'a base backup that cannot be used is named, with why (one period at the end)');
unlike($problems, qr/backup_wal_incomplete|backup_old/, 'and the usable one is not reported');

done_testing();
