# The restore builder, materialise_backup(): plain, tar, tar.gz and tar.zst
# backups become data directories that start and recover to a restore
# point; a tampered file, an escaping or linked tar entry are refused; a
# cancelled or killed build leaves nothing a later call trips on; the
# source cluster, its backups and the archive are never written.
use strict;
use warnings;
use Archive::Tar;
use Digest::SHA;
use File::Copy;
use File::Find;
use File::Path qw(rmtree);
use IPC::Run;
use POSIX qw(mkfifo);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(has_archiving => 1, allows_streaming => 1);
$primary->start;
my $archive = $primary->archive_dir;
my $bkdir   = $primary->backup_dir;

$primary->safe_psql('postgres', q{
CREATE TABLE t (id serial, v text);
INSERT INTO t (v) SELECT 'base' FROM generate_series(1, 1000);
});
$primary->backup('plain');
$primary->backup('tar', backup_options => ['-Ft']);
$primary->backup('targz', backup_options => ['-Ft', '--compress=server-gzip']);
$primary->backup('tarzst', backup_options => ['-Ft', '--compress=server-zstd']);
$primary->safe_psql('postgres', q{
INSERT INTO t (v) SELECT 'kept' FROM generate_series(1, 10);
SELECT pg_create_restore_point('rp1');
INSERT INTO t (v) SELECT 'lost' FROM generate_series(1, 10);
});
my $walfile = $primary->safe_psql('postgres',
	'SELECT pg_walfile_name(pg_current_wal_lsn())');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->poll_query_until('postgres',
	"SELECT last_archived_wal >= '$walfile' FROM pg_stat_archiver")
  or die 'archiving did not catch up';
$primary->stop;

# Restores are built by another server: the source cluster stays stopped,
# so its files, its backups and the archive can be checksummed.
my $builder = PostgreSQL::Test::Cluster->new('builder');
$builder->init;
$builder->append_conf('postgresql.conf',
	"pitr_restore.backup_dir = '$bkdir'\nrestart_after_crash = on\n");
$builder->start;
$builder->safe_psql('postgres', 'CREATE EXTENSION pitr_restore');

sub tree_checksum
{
	my @dirs = @_;
	my %sum;
	find(
		{
			no_chdir => 1,
			wanted   => sub {
				return if -l $_ || !-f $_;
				$sum{$_} = Digest::SHA->new(256)->addfile($_)->hexdigest;
			}
		},
		@dirs);
	return join("\n", map { "$_ $sum{$_}" } sort keys %sum);
}
my @source_dirs = ($primary->data_dir, $bkdir, $archive);
my $sums_before = tree_checksum(@source_dirs);

my $conf = "restore_command = 'cp \"$archive/%f\" \"%p\"'\n"
  . "recovery_target_name = 'rp1'\n"
  . "recovery_target_action = 'promote'\n";

sub materialise
{
	my ($backup, $format, $target, %opts) = @_;
	my @r = $builder->psql('postgres', qq{
SELECT files, bytes FROM pitr_restore.materialise_backup(
	'$bkdir/$backup', '$format', '$target', \$\$$conf\$\$, 'test restore of $backup')});
	return @r;
}

# Nothing at the target or next to it: no directory, no temporary one.
sub leftovers
{
	my ($target) = @_;
	my ($parent, $base) = $target =~ m{^(.*)/([^/]+)$};
	opendir(my $dh, $parent) or die "opendir $parent: $!";
	my @left = grep { /^\Q$base\E($|\.pitr_restore_tmp\.)/ } readdir($dh);
	closedir($dh);
	return join(',', @left);
}

# Each format: build, check the files, start, reach the restore point.
my $expected = "1010|10|0";
foreach my $case (['plain', 'plain'], ['tar', 'tar'], ['targz', 'tar.gz'],
	['tarzst', 'tar.zst'])
{
	my ($backup, $format) = @$case;
	my $node = PostgreSQL::Test::Cluster->new("restored_$backup");
	my $pgdata = $node->data_dir;
	my ($ret, $out, $err) = materialise($backup, $format, $pgdata);
	is($ret, 0, "$format: materialise_backup succeeds") or diag($err);
	like($out, qr/^\d+\|\d+$/, "$format: returns files and bytes");
	my ($files) = split /\|/, $out;
	ok($files > 500, "$format: $files files written");
	ok(-f "$pgdata/recovery.signal", "$format: recovery.signal written");
	ok(!-e "$pgdata/postmaster.pid", "$format: no postmaster.pid");
	ok(!-e "$pgdata/backup_manifest", "$format: backup_manifest not copied");
	ok(!-e "$pgdata/standby.signal", "$format: no standby.signal");
	like(slurp_file("$pgdata/pitr_restore.restored"),
		qr/^test restore of $backup; built .*; token [0-9a-f]{32}\n$/,
		"$format: marker names the restore, with a token");
	like(slurp_file("$pgdata/postgresql.auto.conf"),
		qr/\n# Recovery settings written by pitr_restore.*\nrecovery_target_name = 'rp1'\nrecovery_target_action = 'promote'\n$/s,
		"$format: recovery settings appended to postgresql.auto.conf");
	is(leftovers($pgdata), 'pgdata', "$format: no temporary directory left");
	ok(-d "$pgdata/pg_wal/archive_status", "$format: pg_wal/archive_status exists");

	$node->append_conf('postgresql.conf',
		"port = " . $node->port . "\nunix_socket_directories = '" . $node->host . "'\n"
		  # the promoted restore would archive its new timeline
		  . "archive_mode = off\n");
	$node->start;
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  or die "$format: restored cluster did not promote";
	is($node->safe_psql('postgres',
		q{SELECT count(*), count(*) FILTER (WHERE v = 'kept'), count(*) FILTER (WHERE v = 'lost') FROM t}),
		$expected, "$format: restored cluster stops at the restore point");
	$node->stop;
}

# A tampered file is caught, named, and nothing is left behind.
PostgreSQL::Test::RecursiveCopy::copypath("$bkdir/plain", "$bkdir/tampered");
{
	my $f = "$bkdir/tampered/global/pg_control";
	open(my $fh, '+<', $f) or die "open $f: $!";
	binmode $fh;
	seek($fh, 200, 0);
	my $c;
	read($fh, $c, 1);
	seek($fh, 200, 0);
	print $fh chr((ord($c) + 1) % 256);
	close $fh;
}
my $target = PostgreSQL::Test::Utils::tempdir('targets') . '/restore';
my ($ret, $out, $err) = materialise('tampered', 'plain', $target);
isnt($ret, 0, 'tampered backup is refused');
like($err, qr/checksum mismatch for file "global\/pg_control"/,
	'the error names the tampered file');
is(leftovers($target), '', 'tampered backup leaves nothing behind');

# A file grown in the backup is caught too.
PostgreSQL::Test::RecursiveCopy::copypath("$bkdir/plain", "$bkdir/grown");
append_to_file("$bkdir/grown/PG_VERSION", "x");
($ret, $out, $err) = materialise('grown', 'plain', $target);
like($err, qr/file "PG_VERSION" is larger in the backup than in its backup_manifest/,
	'a grown file is caught');

# A file missing from the backup is caught.
PostgreSQL::Test::RecursiveCopy::copypath("$bkdir/plain", "$bkdir/missing");
unlink("$bkdir/missing/PG_VERSION");
($ret, $out, $err) = materialise('missing', 'plain', $target);
like($err, qr/file "PG_VERSION" is in the backup_manifest but not in the backup/,
	'a missing file is caught');
is(leftovers($target), '', 'a refused backup leaves nothing behind');

# Tar entries that could leave the target directory are refused.
sub evil_tar
{
	my ($name, $entry, %opts) = @_;
	mkdir("$bkdir/$name");
	copy("$bkdir/tar/backup_manifest", "$bkdir/$name/backup_manifest") or die;
	my $tar = Archive::Tar->new;
	$tar->add_data('PG_VERSION', "15\n");
	$tar->add_data($entry, 'evil', \%opts);
	$tar->write("$bkdir/$name/base.tar") or die $tar->error;
}
evil_tar('dotdot', '../escaped');
($ret, $out, $err) = materialise('dotdot', 'tar', $target);
like($err, qr/entry "\.\.\/escaped" in ".*base\.tar" has an unsafe path/,
	'a tar entry with ../ is refused');
ok(!-e dirname_of($target) . '/escaped', 'nothing written outside the target');
is(leftovers($target), '', 'refused tar leaves nothing behind');

evil_tar('nested', 'base/../../escaped');
($ret, $out, $err) = materialise('nested', 'tar', $target);
like($err, qr/entry "base\/\.\.\/\.\.\/escaped" .* has an unsafe path/,
	'a tar entry with a nested .. is refused');

evil_tar('symlink', 'base/link', type => Archive::Tar::Constant::SYMLINK,
	linkname => '/etc');
($ret, $out, $err) = materialise('symlink', 'tar', $target);
like($err, qr/entry "base\/link" .* is a symbolic link/,
	'a symbolic link entry is refused');
is(leftovers($target), '', 'refused link leaves nothing behind');

sub dirname_of { my ($p) = @_; $p =~ s{/[^/]+$}{}; return $p; }

# A build that is cancelled, or whose backend is killed, in the middle.
# base.tar is a FIFO fed slowly, so the build is surely under way.
sub slow_backup
{
	my ($name) = @_;
	mkdir("$bkdir/$name");
	copy("$bkdir/tar/backup_manifest", "$bkdir/$name/backup_manifest") or die;
	my $fifo = "$bkdir/$name/base.tar";
	mkfifo($fifo, 0600) or die "mkfifo: $!";
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		$SIG{PIPE} = 'DEFAULT';
		open(my $in, '<', "$bkdir/tar/base.tar") or POSIX::_exit(1);
		open(my $out, '>', $fifo) or POSIX::_exit(1);
		binmode $in;
		binmode $out;
		my $buf;
		while (read($in, $buf, 64 * 1024))
		{
			syswrite($out, $buf) or last;
			usleep(100_000);
		}
		POSIX::_exit(0);
	}
	return $pid;
}

sub start_build
{
	my ($backup, $target) = @_;
	my ($stdout, $stderr) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-XAtq', '-d', $builder->connstr('postgres'), '-c',
			"SELECT * FROM pitr_restore.materialise_backup('$bkdir/$backup', 'tar', '$target', '', 'slow')"
		],
		'>', \$stdout, '2>', \$stderr);
	# under way: the temporary directory has files in it
	my $tmp;
	for (my $i = 0; $i < 100 * $PostgreSQL::Test::Utils::timeout_default; $i++)
	{
		($tmp) = glob("$target.pitr_restore_tmp.*");
		last if defined $tmp && -e "$tmp/PG_VERSION";
		usleep(10_000);
	}
	return ($h, \$stdout, \$stderr, $tmp);
}

sub build_pid
{
	return $builder->safe_psql('postgres', q{
SELECT pid FROM pg_stat_activity
 WHERE query LIKE '%materialise_backup%' AND pid <> pg_backend_pid()});
}

my $writer = slow_backup('slow');
my ($h, $stdout, $stderr, $tmp) = start_build('slow', $target);
ok(defined $tmp && -d $tmp, 'slow build is under way in a temporary directory');
$builder->safe_psql('postgres', 'SELECT pg_cancel_backend(' . build_pid() . ')');
$h->finish;
like($$stderr, qr/canceling statement due to user request/, 'the build was cancelled');
is(leftovers($target), '', 'a cancelled build leaves no target and no temporary directory');
kill 'KILL', $writer;
waitpid($writer, 0);

# kill -9: no cleanup can run; the temporary directory is obviously named
# and the next call removes it.
unlink("$bkdir/slow/base.tar");
$writer = slow_backup('slow');
($h, $stdout, $stderr, $tmp) = start_build('slow', $target);
my $pid = build_pid();
kill 'KILL', $pid;
$h->finish;
kill 'KILL', $writer;
waitpid($writer, 0);
$builder->poll_query_until('postgres', 'SELECT true')
  or die 'builder did not restart';
is(leftovers($target), "restore.pitr_restore_tmp.$pid",
	'a killed build leaves only its obviously named temporary directory');
($ret, $out, $err) = materialise('tar', 'tar', $target);
is($ret, 0, 'the next build succeeds') or diag($err);
like($err, qr/removing stale temporary directory ".*restore\.pitr_restore_tmp\.$pid"/,
	'and removes the stale temporary directory');
is(leftovers($target), 'restore', 'only the new target is left');

# An existing target is refused.
($ret, $out, $err) = materialise('tar', 'tar', $target);
like($err, qr/target directory ".*restore" already exists/, 'an existing target is refused');

unlink("$bkdir/slow/base.tar");
rmtree("$bkdir/$_") foreach qw(tampered grown missing dotdot nested symlink slow);
is(tree_checksum(@source_dirs), $sums_before,
	'the source cluster, its backups and the archive are unchanged');

done_testing();
