# The restore builder, materialise_backup(): plain, tar, tar.gz and tar.zst
# backups become data directories that start and recover to a restore
# point; a tampered file, an escaping or linked tar entry are refused; a
# target inside the running server's data directory, a tablespace, the
# archive or the backups is refused by real path, symbolic links or not; a
# cancelled or killed build leaves nothing a later call trips on, and the
# stale-directory sweep removes only what it provably made; the source
# cluster, its backups and the archive are never written.
use strict;
use warnings;
use Archive::Tar;
use Digest::SHA;
use File::Copy;
use File::Find;
use File::Path qw(rmtree);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;
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
wait_archived($primary);
$primary->stop;

# Restores are built by another server: the source cluster stays stopped,
# so its files, its backups and the archive can be checksummed.
my $builder = PostgreSQL::Test::Cluster->new('builder');
$builder->init;
$builder->append_conf('postgresql.conf',
	"pitr_restore.backup_dir = '$bkdir'\npitr_restore.archive_dir = '$archive'\n"
	  . "restart_after_crash = on\n");
$builder->start;
my $tsdir = PostgreSQL::Test::Utils::tempdir('tablespace');
$builder->safe_psql('postgres', "CREATE EXTENSION pitr_restore; CREATE TABLESPACE ts LOCATION '$tsdir'");

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

	# the promoted restore would archive its new timeline
	configure_restored($node, "archive_mode = off\n");
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
	$tar->add_data('PG_VERSION', $primary->pg_version->major . "\n");
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

# Targets the builder must never write, judged by real path: through a
# symbolic link to the running server's data directory, in its tablespace
# (directly and through a link), in the archive, in the backup directory,
# and in the backup itself.
my $links = PostgreSQL::Test::Utils::tempdir('links');
symlink($builder->data_dir, "$links/datadir") or die "symlink: $!";
symlink($tsdir, "$links/ts") or die "symlink: $!";
symlink($archive, "$links/archive") or die "symlink: $!";
symlink("$bkdir/plain", "$links/backup") or die "symlink: $!";
foreach my $case (
	[ "$links/datadir/restore", 'the data directory of the running server' ],
	[ "$links/datadir/base/restore", 'the data directory of the running server' ],
	[ "$tsdir/restore", 'a tablespace of the running server' ],
	[ "$links/ts/restore", 'a tablespace of the running server' ],
	[ "$links/archive/restore", 'the archive' ],
	[ "$bkdir/restore", 'the base backup directory' ],
	[ "$links/backup/restore", 'the base backup directory' ])
{
	my ($dir, $what) = @$case;
	($ret, $out, $err) = materialise('plain', 'plain', $dir);
	like($err, qr/target directory "[^"]*" overlaps \Q$what\E/,
		"materialise_backup refuses $dir: $what");
	($ret, $out, $err) = $builder->psql('postgres',
		"SELECT pitr_restore.check_restore_target('$dir')");
	like($err, qr/overlaps \Q$what\E/, "check_restore_target refuses $dir");
	ok(!-e $dir, "nothing created at $dir");
}
# The backup itself, when it lies outside backup_dir.
($ret, $out, $err) = $builder->psql('postgres', qq{
SET pitr_restore.backup_dir = '$links';
SELECT * FROM pitr_restore.materialise_backup('$bkdir/plain', 'plain',
	'$links/backup/restore', '', 'm')});
like($err, qr/overlaps the backup "\Q$bkdir\E\/plain"/,
	'a target inside the backup itself is refused, through a link');
# An archive named by argument counts as well as the setting.
my $other_archive = PostgreSQL::Test::Utils::tempdir('other_archive');
($ret, $out, $err) = $builder->psql('postgres',
	"SELECT pitr_restore.check_restore_target('$other_archive/restore', '$other_archive')");
like($err, qr/overlaps the archive/, 'a target inside the archive argument is refused');
is($builder->safe_psql('postgres',
	"SELECT pitr_restore.check_restore_target('$links/elsewhere')"),
	"$links/elsewhere", 'a target clear of all of them is its real path');
ok(!-e "$bkdir/plain/restore" && !-e "$tsdir/restore" && !-e "$archive/restore",
	'nothing was written by the refused targets');

# A build that is cancelled, or whose backend is killed, in the middle.  The
# backend is stopped (SIGSTOP) as soon as its temporary directory has its
# stamp, so the build is surely under way; should it have finished first,
# the attempt is repeated.
sub start_build
{
	my ($backup, $target) = @_;
	for (my $attempt = 0; $attempt < 20; $attempt++)
	{
		my ($stdout, $stderr) = ('', '');
		my $h = IPC::Run::start(
			[
				'psql', '-XAtq', '-d', $builder->connstr('postgres'), '-c',
				"SELECT * FROM pitr_restore.materialise_backup('$bkdir/$backup', 'tar', '$target', '', 'slow')"
			],
			'>', \$stdout, '2>', \$stderr);
		my ($tmp, $pid);
		for (my $i = 0; $i < 1000 * $PostgreSQL::Test::Utils::timeout_default; $i++)
		{
			# the stamp written: past mkdir, the build proper has begun
			($tmp) = glob("$target.pitr_restore_tmp.*");
			last if defined $tmp && -s "$tmp/pitr_restore.building";
			usleep(1_000);
		}
		die 'no temporary directory appeared' unless defined $tmp;
		($pid) = $tmp =~ /\.(\d+)$/;
		kill 'STOP', $pid;
		return ($h, \$stdout, \$stderr, $tmp, $pid) unless -e $target;
		kill 'CONT', $pid;
		$h->finish;
		rmtree($target);
	}
	die 'every build finished before it could be stopped';
}

my ($h, $stdout, $stderr, $tmp, $pid);
for (;;)
{
	($h, $stdout, $stderr, $tmp, $pid) = start_build('tar', $target);
	$builder->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	kill 'CONT', $pid;
	$h->finish;
	# stopped past its last interrupt check: it completed, try again
	last unless -e $target;
	rmtree($target);
}
like($$stderr, qr/canceling statement due to user request/, 'the build was cancelled');
is(leftovers($target), '', 'a cancelled build leaves no target and no temporary directory');

# kill -9: no cleanup can run; the temporary directory is obviously named,
# carries its stamp, and the next call removes it.
($h, $stdout, $stderr, $tmp, $pid) = start_build('tar', $target);
ok(-f "$tmp/pitr_restore.building", 'the temporary directory carries a stamp');
like(slurp_file("$tmp/pitr_restore.building"),
	qr/^pitr_restore temporary directory\npid $pid\nstarted .*\ntoken [0-9a-f]{32}\n$/,
	'the stamp names the backend, the time and a random token');
kill 'KILL', $pid;
$h->finish;
$builder->poll_query_until('postgres', 'SELECT true')
  or die 'builder did not restart';
is(leftovers($target), "restore.pitr_restore_tmp.$pid",
	'a killed build leaves only its obviously named temporary directory');

# Next to it, things that look like stale temporary directories but cannot
# prove they are ours: a symbolic link to a directory with files in it, a
# directory without a stamp, one whose stamp names another process.  Their
# names use pids that are not running.
my @dead = grep { !kill(0, $_) } (999990 .. 999999);
my $parent = dirname_of($target);
my $victim = PostgreSQL::Test::Utils::tempdir('victim');
append_to_file("$victim/precious", 'keep me');
symlink($victim, "$parent/x.pitr_restore_tmp.$dead[0]") or die "symlink: $!";
mkdir("$parent/y.pitr_restore_tmp.$dead[1]");
append_to_file("$parent/y.pitr_restore_tmp.$dead[1]/file", 'keep me');
mkdir("$parent/w.pitr_restore_tmp.$dead[3]");
mkdir("$parent/z.pitr_restore_tmp.$dead[2]");
append_to_file("$parent/z.pitr_restore_tmp.$dead[2]/pitr_restore.building",
	"pitr_restore temporary directory\npid 1\n");

($ret, $out, $err) = materialise('tar', 'tar', $target);
is($ret, 0, 'the next build succeeds') or diag($err);
like($err, qr/removing stale temporary directory ".*restore\.pitr_restore_tmp\.$pid"/,
	'and removes the stale temporary directory');
is(leftovers($target), 'restore', 'only the new target is left');
ok(!-e "$target/pitr_restore.building", 'the finished restore carries no stamp');
like($err, qr/not removing ".*x\.pitr_restore_tmp\.$dead[0]": it is a symbolic link/,
	'a symbolic link named like a temporary directory is reported');
is(slurp_file("$victim/precious"), 'keep me', 'and its target is left alone');
ok(-l "$parent/x.pitr_restore_tmp.$dead[0]", 'the link itself is left too');
like($err, qr/not removing ".*y\.pitr_restore_tmp\.$dead[1]": it has no pitr_restore stamp/,
	'a directory without a stamp is reported');
ok(-f "$parent/y.pitr_restore_tmp.$dead[1]/file", 'and left alone');
like($err, qr/not removing ".*z\.pitr_restore_tmp\.$dead[2]": its stamp names another process/,
	'a stamp naming another process is reported');
ok(-d "$parent/z.pitr_restore_tmp.$dead[2]", 'and left alone');
like($err, qr/removed empty stale temporary directory ".*w\.pitr_restore_tmp\.$dead[3]"/,
	'an empty one (a build killed before its stamp) is removed');
ok(!-e "$parent/w.pitr_restore_tmp.$dead[3]", 'and is gone');

# An existing target is refused.
($ret, $out, $err) = materialise('tar', 'tar', $target);
like($err, qr/target directory ".*restore" already exists/, 'an existing target is refused');

rmtree("$bkdir/$_") foreach qw(tampered grown missing dotdot nested symlink);
is(tree_checksum(@source_dirs), $sums_before,
	'the source cluster, its backups and the archive are unchanged');

done_testing();
