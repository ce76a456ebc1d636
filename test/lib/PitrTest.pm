# Shared steps of the pitr_restore TAP suites: a primary archiving into a
# directory, small transactions that record their own xid, the resolver's
# answer, a real recovery that applies it and the checks of where it
# stopped, and the byte-level tools the corruption tests share (raw file
# I/O, CRC-32C as the server and the sidecars use it).
package PitrTest;

use strict;
use warnings;
use Exporter 'import';
use File::Basename;
use File::Copy ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(new_primary create_ledger workload xid_of commit_time_of
  wait_archived pgbench_around_backup resolve recover promote
  configure_restored wait_paused start_restored check_stop row_count pg_major have_extension slurp_bin spew_bin
  crc32c_update crc32c record_crc reseal_sidecar as_role copy_archive
  side_server_gone new_side_primary recovered_rows diverged_clone
  windows_second_timeline);

# The major version of the server under test (15, 18): the TAP framework
# puts its bin directory first in PATH.
sub pg_major
{
	my $v = `pg_config --version`;
	$v =~ /PostgreSQL (\d+)/ or die "unexpected pg_config --version: $v";
	return $1;
}

# Whether the server under test has extension $name installed.
sub have_extension
{
	my ($name) = @_;
	my $share = `pg_config --sharedir`;
	chomp $share;
	return -f "$share/extension/$name.control";
}

# A primary archiving into $archive (zstd-compressed when asked), with the
# extension and a ledger table.  Options:
#   name => 'primary'        the node's name
#   zstd => 1                archive_command compresses with zstd
#   archive_name => 'archive' the archive's temporary directory's prefix
#   module => 1              archive through archive_library = 'pitr_restore'
#                            (with its sidecars) instead of archive_command
#   archive => $dir          archive into $dir rather than a new directory
#   archive_command => '...' this command, as a conf literal's content
#   initdb => [...]          more initdb options (e.g. '--wal-segsize=1')
#   conf => '...'            more postgresql.conf lines
#   sql => '...'             more set-up SQL, run after the ledger's
sub new_primary
{
	my (%opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($opt{name} // 'primary');
	$node->init(has_archiving => 1, allows_streaming => 1,
		$opt{initdb} ? (extra => $opt{initdb}) : ());
	my $archive = $opt{archive}
	  // PostgreSQL::Test::Utils::tempdir($opt{archive_name} // 'archive');
	my $bkdir = $node->backup_dir;
	my $cmd = $opt{archive_command}
	  // ($opt{zstd} ? "zstd -q -c %p > $archive/%f.zst" : "cp %p $archive/%f");
	my $how = $opt{module}
	  ? "archive_command = ''\narchive_library = 'pitr_restore'"
	  : "archive_command = '$cmd'";
	(my $dir = $archive) =~ s/(['\\])/$1$1/g;    # a conf literal
	$node->append_conf('postgresql.conf', qq{
$how
track_commit_timestamp = on
max_prepared_transactions = 5
pitr_restore.archive_dir = '$dir'
pitr_restore.backup_dir = '$bkdir'
} . ($opt{conf} // ''));
	$node->start;
	create_ledger($node, $opt{sql});
	return ($node, $archive);
}

# A primary (new_primary's %opt) that loads the library at start, with
# autovacuum off and its side servers (restore_table, restore_database)
# under a new temporary directory.  Returns ($node, $archive, $side_dir).
sub new_side_primary
{
	my (%opt) = @_;
	my $side_dir = PostgreSQL::Test::Utils::tempdir('side');
	my ($node, $archive) = new_primary(%opt, conf => qq{
shared_preload_libraries = 'pitr_restore'
autovacuum = off
pitr_restore.side_server_dir = '$side_dir'
} . ($opt{conf} // ''));
	return ($node, $archive, $side_dir);
}

# The extension and the ledger workload() fills, then $sql.
sub create_ledger
{
	my ($node, $sql) = @_;
	$node->safe_psql('postgres', q{
CREATE EXTENSION pitr_restore;
CREATE TABLE ledger (tag text PRIMARY KEY, xid bigint NOT NULL DEFAULT txid_current());
} . ($sql // ''));
}

# Many small transactions, each recording its own xid under a tag.
sub workload
{
	my ($node, $prefix, $count) = @_;
	$node->safe_psql('postgres', join('',
		map { "INSERT INTO ledger (tag) VALUES ('$prefix$_');\n" } 1 .. $count));
}

sub xid_of
{
	my ($node, $tag) = @_;
	return $node->safe_psql('postgres', "SELECT xid FROM ledger WHERE tag = '$tag'");
}

sub commit_time_of
{
	my ($node, $tag) = @_;
	return $node->safe_psql('postgres',
		"SELECT pg_xact_commit_timestamp(xid::text::xid) FROM ledger WHERE tag = '$tag'");
}

# A copy of an archive's files in a new temporary directory, to damage
# without touching the original.
sub copy_archive
{
	my ($archive, $name) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir($name);
	opendir(my $dh, $archive) or die "$archive: $!";
	for my $f (grep { !/^\./ } readdir($dh))
	{
		File::Copy::copy("$archive/$f", "$dir/$f") or die "copy $f: $!";
	}
	return $dir;
}

# Switch WAL and wait until everything written so far is archived.
sub wait_archived
{
	my ($node) = @_;
	my $seg = $node->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
	$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
	$node->poll_query_until('postgres',
		"SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")
	  or die "$seg was not archived";
}

# A pgbench history around a base backup "b1": pgbench -i at $opt{scale},
# the backup, $opt{runs}[0] transactions on two clients, workload "a" (50),
# restore point $opt{restore_point}, a transaction prepared as "px" (tag
# "prepared"), workload "b" (50), its COMMIT PREPARED, $opt{runs}[1] more
# transactions; all of it archived.  Three tests (the pgbench runs).
sub pgbench_around_backup
{
	my ($node, %opt) = @_;
	my @conn = ('-p', $node->port, '-h', $node->host, 'postgres');
	$node->command_ok([ 'pgbench', '-i', '-s', $opt{scale}, '-q', @conn ],
		'pgbench initialises');
	wait_archived($node);
	$node->backup('b1');
	$node->command_ok([ 'pgbench', '-n', '-t', $opt{runs}[0], '-c', '2', @conn ],
		'pgbench runs');
	workload($node, 'a', 50);
	$node->safe_psql('postgres', "SELECT pg_create_restore_point('$opt{restore_point}')");
	$node->safe_psql('postgres', q{
BEGIN; INSERT INTO ledger (tag) VALUES ('prepared'); PREPARE TRANSACTION 'px';});
	workload($node, 'b', 50);
	$node->safe_psql('postgres', q{COMMIT PREPARED 'px'});
	$node->command_ok([ 'pgbench', '-n', '-t', $opt{runs}[1], '-c', '2', @conn ],
		'pgbench runs again');
	wait_archived($node);
}

# What the resolver says, as a hash.
sub resolve
{
	my ($node, $args) = @_;
	my $row = $node->safe_psql('postgres', qq{
		SELECT reachable, coalesce(reason, ''), coalesce(timeline, 0),
			   coalesce(backup_location, ''), coalesce(stop_lsn::text, ''),
			   coalesce(stop_before::text, ''), coalesce(end_lsn::text, ''),
			   coalesce(last_xid::text, ''), coalesce(next_xid::text, ''),
			   coalesce(recovery_conf, '')
		  FROM pitr_restore.resolve_target($args)});
	my @f = split /\|/, $row, 10;
	return {
		reachable => $f[0], reason => $f[1], timeline => $f[2],
		location => $f[3], stop_lsn => $f[4], stop_before => $f[5],
		end_lsn => $f[6], last_xid => $f[7], next_xid => $f[8],
		conf => $f[9] };
}

# Recover a cluster from the resolver's answer, never archiving into the
# archive it reads; it is left paused at the stop point.
my $n_recoveries = 0;
sub recover
{
	my ($primary, $res, $extra) = @_;
	my $node = PostgreSQL::Test::Cluster->new('recovered' . ++$n_recoveries);
	$node->init_from_backup($primary, basename($res->{location}));
	$node->append_conf('postgresql.auto.conf', $res->{conf} . ($extra // ''));
	$node->append_conf('postgresql.conf', "archive_mode = off\n");
	$node->set_recovery_mode;
	$node->start;
	wait_paused($node, $node->name);
	return $node;
}

# recover() from $res, one test per check [ledger condition, row count,
# message] on the recovered cluster, which is then stopped.
sub recovered_rows
{
	my ($primary, $res, @checks) = @_;
	my $node = recover($primary, $res);
	is(row_count($node, $_->[0]), $_->[1], $_->[2]) for @checks;
	$node->stop('immediate');
	return;
}

# A diverged clone: $primary's backup $backup started as a primary of its
# own (same system, same timeline, same segment names, other WAL), not
# archiving, with more postgresql.conf lines $conf; $work->($clone) writes
# its WAL.  Returns the clone, the name of its current (not completed)
# segment and its pg_wal directory.
sub diverged_clone
{
	my ($primary, $backup, $name, $conf, $work) = @_;
	my $c = PostgreSQL::Test::Cluster->new($name);
	$c->init_from_backup($primary, $backup);
	$c->append_conf('postgresql.conf', "archive_mode = off\n" . $conf);
	$c->start;
	$work->($c);
	return ($c,
		$c->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())'),
		$c->data_dir . '/pg_wal');
}

# The end of timeline 1 and timeline 2 of the recovery_windows tests: on
# $primary, workload 'c', a WAL switch, a pause, workload 'cc' ($rows rows
# each) and the restore point rp_end, archived; then $primary stops,
# rp_end (as $reader resolves it) is restored and promoted as $name
# (promote()'s %opt), and the new timeline gets 'd', a WAL switch and 'dd'
# (a pause before each), archived.  One test; returns the new primary.
sub windows_second_timeline
{
	my ($primary, $reader, $rows, $name, %opt) = @_;
	my $pause = sub { $_[0]->safe_psql('postgres', 'SELECT pg_sleep(0.4)') };
	# $tag in one segment, $tag$tag in the next
	my $two_segments = sub {
		my ($node, $tag) = @_;
		workload($node, $tag, $rows);
		$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
		$pause->($node);
		workload($node, "$tag$tag", $rows);
	};
	$two_segments->($primary, 'c');
	$primary->safe_psql('postgres', q{SELECT pg_create_restore_point('rp_end')});
	wait_archived($primary);

	$primary->stop;
	my $res = resolve($reader, "target_name => 'rp_end', recovery_action => 'promote'");
	is($res->{reachable}, 't', 'rp_end is reachable') or diag($res->{reason});
	my $tl2 = promote($primary, $res, $name, %opt);
	$pause->($tl2);
	$two_segments->($tl2, 'd');
	wait_archived($tl2);
	return $tl2;
}

# Wait until $node's recovery pauses at its target.
sub wait_paused
{
	my ($node, $name) = @_;
	$node->poll_query_until('postgres',
		"SELECT pg_get_wal_replay_pause_state() = 'paused'")
	  or die "$name: recovery did not pause at the target";
}

# A new node $name restored from the resolver's answer on $primary's backup
# (the one the answer names unless $opt{backup}), started and promoted at
# the target.  With $opt{module_archive}, it archives its new timeline
# there through the archive module.
sub promote
{
	my ($primary, $res, $name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init_from_backup($primary, $opt{backup} // basename($res->{location}));
	$node->append_conf('postgresql.auto.conf',
		$res->{conf} . "\nrecovery_target_action = 'promote'\n");
	$node->append_conf('postgresql.conf', qq{
archive_mode = on
archive_command = ''
archive_library = 'pitr_restore'
pitr_restore.archive_dir = '$opt{module_archive}'
}) if $opt{module_archive};
	$node->set_recovery_mode;
	$node->start;
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  or die "$name: no promotion";
	return $node;
}

# Give $node, whose data directory prepare_restore built, its own port and
# socket, and the settings $conf.
sub configure_restored
{
	my ($node, $conf) = @_;
	$node->append_conf('postgresql.conf',
		"port = " . $node->port . "\nunix_socket_directories = '" . $node->host . "'\n"
		  . ($conf // ''));
}

# configure_restored, then start $node and wait until recovery pauses.
sub start_restored
{
	my ($node, $name, $conf) = @_;
	configure_restored($node, $conf);
	$node->start;
	wait_paused($node, $name);
}

# Three tests: recovery paused exactly at $end_lsn, with the ledger row of
# $last_xid and without that of $next_xid.
sub check_stop
{
	my ($node, $name, $end_lsn, $last_xid, $next_xid) = @_;
	is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $end_lsn,
		"$name: recovery stops exactly at the predicted point");
	is(row_count($node, "xid = '$last_xid'"), '1', "$name: last_xid $last_xid is kept");
	is(row_count($node, "xid = '$next_xid'"), '0', "$name: next_xid $next_xid is not");
}

# psql on $node as $role (SET ROLE) in $db (default postgres); returns
# (stdout, stderr).
sub as_role
{
	my ($node, $role, $query, $db) = @_;
	my ($ret, $out, $err) = $node->psql($db // 'postgres', "SET ROLE $role;\n$query");
	return ($out, $err);
}

# Nothing of a test's side servers may be left: no directory under
# $side_dir, no process running with it.  The test's own side servers only:
# their postmaster runs with -D under $side_dir (other runs on the machine
# may have side servers of theirs).
sub side_server_gone
{
	my ($side_dir, $what) = @_;
	opendir(my $d, $side_dir) or die "could not open $side_dir: $!";
	my @left = grep { !/^\.\.?$/ } readdir $d;
	closedir $d;
	is(join(',', @left), '', "$what: no side server directory left");
	my $ps = `ps -eo args`;
	unlike($ps, qr/\Q$side_dir\E/, "$what: no side server process left");
	return;
}

sub row_count
{
	my ($node, $where) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE $where");
}

# A file's bytes, as they are ('' for an empty file).
sub slurp_bin
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	return $d // '';
}

sub spew_bin
{
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "$path: $!";
	print $fh $data;
	close $fh;
}

# CRC-32C (Castagnoli, reflected), as pg_crc32c computes it.
my @crc_table = map {
	my $c = $_;
	$c = ($c & 1) ? (($c >> 1) ^ 0x82F63B78) : ($c >> 1) for 1 .. 8;
	$c
} 0 .. 255;

# $crc carried over $data, without the initial or final inversion.
sub crc32c_update
{
	my ($crc, $data) = @_;
	$crc = $crc_table[($crc ^ $_) & 0xFF] ^ ($crc >> 8) for unpack('C*', $data);
	return $crc;
}

sub crc32c
{
	my ($data) = @_;
	return crc32c_update(0xFFFFFFFF, $data) ^ 0xFFFFFFFF;
}

# A WAL record's xl_crc as xlogreader.c's ValidXLogRecord checks it: the
# data after the 24-byte header, then the header up to xl_crc (offset 20).
sub record_crc
{
	my ($record) = @_;
	my $crc = crc32c_update(0xFFFFFFFF, substr($record, 24));
	return crc32c_update($crc, substr($record, 0, 20)) ^ 0xFFFFFFFF;
}

# A sidecar's text: $body followed by its closing "end <CRC-32C>" line.
sub reseal_sidecar
{
	my ($body) = @_;
	return $body . sprintf("end %08x\n", crc32c($body));
}

1;
