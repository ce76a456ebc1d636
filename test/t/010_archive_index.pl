# The archive index: scan_archive(), segments(), restore_points(),
# timelines() and backups() against a real cluster's archive, written plain
# and zstd-compressed by the same server, after a real point-in-time
# recovery, and with damaged and foreign files mixed in.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(has_archiving => 1, allows_streaming => 1);
my $plain = $node->archive_dir;
my $zst   = PostgreSQL::Test::Utils::tempdir('archive_zst');
my $bkdir = $node->backup_dir;
$node->append_conf('postgresql.conf', qq{
archive_command = 'cp %p $plain/%f && zstd -q -c %p > $zst/%f.zst'
pitr_restore.archive_dir = '$plain'
pitr_restore.backup_dir = '$bkdir'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pitr_restore');

# A workload with restore points, one name used twice, and base backups
# in plain, tar and zstd-compressed tar format.
$node->safe_psql('postgres', q{
CREATE TABLE t (id serial, v text);
INSERT INTO t (v) SELECT 'a' FROM generate_series(1, 1000);
SELECT pg_create_restore_point('before_load');
INSERT INTO t (v) SELECT 'b' FROM generate_series(1, 1000);
SELECT pg_create_restore_point('rp2');
SELECT pg_switch_wal();
});
$node->backup('plain');
$node->backup('tar', backup_options => ['-Ft']);
$node->backup('tarzst', backup_options => ['-Ft', '--compress=server-zstd']);
$node->safe_psql('postgres', q{
INSERT INTO t (v) SELECT 'after backups' FROM generate_series(1, 10);
SELECT pg_create_restore_point('rp_pitr');
INSERT INTO t (v) SELECT repeat('c', 100) FROM generate_series(1, 50000);
SELECT pg_create_restore_point('before_load');
BEGIN; INSERT INTO t (v) VALUES ('aborted'); ROLLBACK;
INSERT INTO t (v) VALUES ('last');
});
wait_archived($node);

sub scan
{
	my ($dir) = @_;
	return $node->safe_psql('postgres',
		"SELECT segments_total, segments_scanned, bytes_read > 0 FROM pitr_restore.scan_archive('$dir')");
}

my $seg_cols = q{timeline, start_lsn, end_lsn, kind, status, detail,
	first_record_lsn, next_record_lsn, records, commits, aborts,
	first_commit_time, last_commit_time, min_xid, max_xid, restore_points,
	has_switch, wal_level_minimal};

my ($total, $scanned, $read) = split /\|/, scan($plain);
ok($total >= 4, "plain archive has $total segments");
is($scanned, $total, 'first scan reads every segment');
is($read, 't', 'first scan reads bytes');
scan($zst);

my $seg_plain = $node->safe_psql('postgres',
	"SELECT $seg_cols FROM pitr_restore.segments('$plain')");
my $seg_zst = $node->safe_psql('postgres',
	"SELECT $seg_cols FROM pitr_restore.segments('$zst')");
is($seg_zst, $seg_plain, 'plain and zstd archives give identical segments()');
unlike($seg_plain, qr/corrupt|not_wal|foreign/, 'no segment is reported bad');

my $rp_plain = $node->safe_psql('postgres',
	'SELECT name, lsn, end_lsn, timeline, occurrence FROM pitr_restore.restore_points()');
my $rp_zst = $node->safe_psql('postgres',
	"SELECT name, lsn, end_lsn, timeline, occurrence FROM pitr_restore.restore_points('$zst')");
is($rp_zst, $rp_plain, 'plain and zstd archives give identical restore_points()');
like($rp_plain, qr/^before_load\|.*\|1\|1\nrp2\|.*\|1\|1\nrp_pitr\|.*\|1\|1\nbefore_load\|.*\|1\|2$/,
	'restore points in WAL order, with the repeated name numbered');

# The same restore points as pg_waldump finds in the same files.
my @segs = sort grep { /^[0-9A-F]{24}$/ } do {
	opendir(my $dh, $plain) or die; readdir($dh);
};
my ($out, $err) = run_command([ 'pg_waldump', '-p', $plain, $segs[0], $segs[-1] ]);
my @waldump;
for my $line (split /\n/, $out)
{
	push @waldump, "$2|$1"
	  if $line =~ /lsn: (\S+), .*desc: RESTORE_POINT (\S+)/;
}
my @ours = map { my @f = split /\|/; "$f[0]|$f[1]" } split /\n/,
  $node->safe_psql('postgres', 'SELECT name, lsn FROM pitr_restore.restore_points()');
# pg_waldump prints LSNs zero-padded: 0/015375B8
@waldump = map { s{\|(\w+)/0*(\w+)$}{|$1/$2}r } @waldump;
is_deeply(\@ours, \@waldump, 'restore points equal what pg_waldump prints');

# Incremental: nothing new, nothing read.
($total, $scanned, $read) = split /\|/, scan($plain);
is($scanned, 0, 'second scan with nothing new scans no segment');
is($node->safe_psql('postgres',
	"SELECT bytes_read FROM pitr_restore.scan_archive('$zst')"), '0',
	'second scan with nothing new reads 0 bytes');

# Base backups of every format, with the LSNs the archive's backup
# history files give.
my $bk = $node->safe_psql('postgres', q{
SELECT format, timeline, start_lsn, stop_lsn, backup_history_file, pg_version,
	   system_identifier::text = (SELECT system_identifier::text FROM pg_control_system())
  FROM pitr_restore.backups() ORDER BY start_lsn});
my @bk;
for my $row (split /\n/, $bk)
{
	my @f = split /\|/, $row;
	# the archive's backup history file says where each backup ends
	my $hist = slurp_file("$plain/$f[4]");
	my ($start) = $hist =~ /START WAL LOCATION: (\S+)/;
	my ($stop) = $hist =~ /STOP WAL LOCATION: (\S+)/;
	push @bk, join('|', $f[0], $f[1], $f[2] eq $start ? 'start ok' : "start $f[2] <> $start",
		$f[3] eq $stop ? 'stop ok' : "stop $f[3] <> $stop", @f[ 5, 6 ]);
}
is(scalar(@bk), 3, 'three base backups listed');
my $major = $node->pg_version->major;
is($bk[0], "plain|1|start ok|stop ok|$major|t", 'plain backup with its LSNs');
is($bk[1], "tar|1|start ok|stop ok|$major|t", 'tar backup with its LSNs');
is($bk[2], "tar.zst|1|start ok|stop ok|$major|t", 'zstd tar backup with its LSNs');
my $label_start = slurp_file("$bkdir/plain/backup_label") =~ /START WAL LOCATION: (\S+)/ && $1;
like($bk, qr{^plain\|1\|\Q$label_start\E\|}, 'plain backup start LSN is backup_label\'s');

# A real point-in-time recovery to rp2, promoted: a second timeline,
# archived into the same archive.
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($node, 'plain', has_restoring => 1, standby => 0);
$restored->append_conf('postgresql.conf', qq{
recovery_target_name = 'rp_pitr'
recovery_target_action = 'promote'
archive_mode = on
archive_command = 'cp %p $plain/%f && zstd -q -c %p > $zst/%f.zst'
});
$restored->start;
$restored->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'restored cluster did not promote';
$restored->safe_psql('postgres', q{
INSERT INTO t (v) SELECT 'tl2' FROM generate_series(1, 100);
SELECT pg_create_restore_point('on_tl2');
SELECT pg_switch_wal();
});
$restored->poll_query_until('postgres',
	"SELECT last_archived_wal LIKE '00000002%' FROM pg_stat_archiver")
  or die 'timeline 2 was not archived';
my $rp_end = $node->safe_psql('postgres',
	"SELECT end_lsn FROM pitr_restore.restore_points() WHERE name = 'rp_pitr'");
scan($plain);
is($node->safe_psql('postgres',
	'SELECT timeline, parent, branch_lsn, reason, history_file FROM pitr_restore.timelines() WHERE timeline = 2'),
	qq{2|1|$rp_end|at restore point "rp_pitr"|00000002.history},
	'timeline 2 appears with its parent, branch point and reason');
is($node->safe_psql('postgres',
	q{SELECT string_agg(name || '@' || timeline, ',' ORDER BY lsn, timeline) FROM pitr_restore.restore_points() WHERE occurrence = 1}),
	'before_load@1,rp2@1,rp_pitr@1,on_tl2@2',
	'records copied into the new timeline\'s first segment are not listed twice');

# Damaged, foreign and garbage files: each gets a status that says why,
# and the backend survives.
my $bad = PostgreSQL::Test::Utils::tempdir('archive_bad');
copy("$plain/$_", "$bad/$_") for @segs;
# the bit flip goes into a segment full of records, the rest anywhere else
my $victim_flip = $node->safe_psql('postgres',
	"SELECT file_name FROM pitr_restore.segments('$plain') WHERE timeline = 1 AND records > 10000 LIMIT 1");
my ($victim_trunc, $victim_magic, $victim_size, $victim_zst) =
  grep { $_ ne $victim_flip } @segs;
truncate("$bad/$victim_trunc", 5000000) or die;
sub patch
{
	my ($file, $offset, $bytes) = @_;
	open(my $fh, '+<', $file) or die "$file: $!";
	binmode $fh;
	seek($fh, $offset, 0);
	print $fh $bytes;
	close $fh;
}
patch("$bad/$victim_flip", 8192 * 300 + 300, "\xff\x00\xff\x00");
patch("$bad/$victim_magic", 0, pack('v', 0xD10D));
patch("$bad/$victim_size", 32, pack('V', 2 * 1024 * 1024));
open(my $g, '>', "$bad/0000000100000000000000F0.zst") or die;
print $g "this is not zstd" x 100;
close $g;
open($g, '>', "$bad/0000000100000000000000F1") or die;
print $g "\0" x (16 * 1024 * 1024);
close $g;
system("zstd -q -c $plain/$victim_zst | head -c 20000 > $bad/$victim_zst.zst") == 0 or die;
unlink "$bad/$victim_zst";

my $other = PostgreSQL::Test::Cluster->new('other');
$other->init(has_archiving => 1, allows_streaming => 1);
$other->start;
$other->safe_psql('postgres', 'SELECT pg_switch_wal(); CREATE TABLE x(); SELECT pg_switch_wal();');
$other->poll_query_until('postgres', 'SELECT archived_count > 0 FROM pg_stat_archiver') or die;
$other->stop;
opendir(my $oh, $other->archive_dir) or die;
my ($foreign) = sort grep { /^[0-9A-F]{24}$/ } readdir($oh);
# Give it a name of its own in our archive, with a matching page address.
my $foreign_name = '0000000100000000000000E0';
copy($other->archive_dir . "/$foreign", "$bad/$foreign_name") or die;

scan($bad);
my %status = map { my @f = split /\|/; $f[0] => "$f[1]|$f[2]" } split /\n/,
  $node->safe_psql('postgres',
	"SELECT file_name, status, detail FROM pitr_restore.segments('$bad')");
like($status{$victim_trunc}, qr/^truncated\|.*not a whole segment/, 'truncated segment reported');
like($status{$victim_flip}, qr/^corrupt\|valid WAL in segment .* ends at .*checksum/,
	'bit-flipped segment reported with the reader\'s complaint');
like($status{$victim_magic}, qr/^wrong_version\|invalid magic number 0xD10D .*PostgreSQL 14/,
	'segment of another major version reported');
like($status{$victim_size}, qr/^wrong_segment_size\|/, 'segment of another segment size reported');
like($status{'0000000100000000000000F0.zst'}, qr/^(unreadable|corrupt)\|.*zstd/, 'garbage .zst reported');
like($status{'0000000100000000000000F1'}, qr/^not_wal\|invalid magic number 0x0000/, 'zero-filled file reported as not WAL');
like($status{"$victim_zst.zst"}, qr/^truncated\|.*truncated zstd frame/, 'truncated .zst reported');
like($status{$foreign_name}, qr/^foreign\|.*belongs to database system/,
	'segment of another cluster reported as foreign');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the backend survived');

# Two scans of one archive run one after the other: while one holds the
# archive, the other waits for it.
my $fresh = PostgreSQL::Test::Utils::tempdir('archive_fresh');
copy("$plain/$_", "$fresh/$_") for @segs;
my $holder = $node->background_psql('postgres');
$holder->query_safe("BEGIN; SELECT * FROM pitr_restore.scan_archive('$fresh')");
my ($r, $o, $e) = $node->psql('postgres',
	"SET statement_timeout = '1s'; SELECT * FROM pitr_restore.scan_archive('$fresh')");
like($e, qr/canceling statement due to statement timeout/, 'a second scan waits for the first');
$holder->query_safe('COMMIT');
$holder->quit;
is($node->safe_psql('postgres',
	"SELECT segments_total || '/' || segments_scanned FROM pitr_restore.scan_archive('$fresh')"),
	scalar(@segs) . '/0', 'after the first scan commits, the second finds everything indexed once');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM pitr_restore.archive_file f JOIN pitr_restore.archive a USING (archive_id)
	 WHERE a.directory = '$fresh'}), scalar(@segs), 'and no file is indexed twice');

# A missing archive directory is an ERROR that names it.
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SELECT * FROM pitr_restore.scan_archive('/nonexistent/archive')");
like($stderr, qr{could not open WAL archive directory "/nonexistent/archive": No such file or directory},
	'missing archive directory is an error');

done_testing();
