# Shared steps of the pitr_restore TAP suites: a primary archiving into a
# directory, small transactions that record their own xid, the resolver's
# answer, and a real recovery that applies it.
package PitrTest;

use strict;
use warnings;
use Exporter 'import';
use File::Basename;
use File::Copy ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(new_primary workload xid_of commit_time_of wait_archived
  resolve recover row_count pg_major have_extension copy_archive);

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
#   initdb => [...]          more initdb options (e.g. '--wal-segsize=1')
#   conf => '...'            more postgresql.conf lines
#   sql => '...'             more set-up SQL, run after the ledger's
sub new_primary
{
	my (%opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($opt{name} // 'primary');
	$node->init(has_archiving => 1, allows_streaming => 1,
		$opt{initdb} ? (extra => $opt{initdb}) : ());
	my $archive = PostgreSQL::Test::Utils::tempdir($opt{archive_name} // 'archive');
	my $bkdir = $node->backup_dir;
	my $cmd = $opt{zstd} ? "zstd -q -c %p > $archive/%f.zst" : "cp %p $archive/%f";
	my $how = $opt{module}
	  ? "archive_command = ''\narchive_library = 'pitr_restore'"
	  : "archive_command = '$cmd'";
	$node->append_conf('postgresql.conf', qq{
$how
track_commit_timestamp = on
max_prepared_transactions = 5
pitr_restore.archive_dir = '$archive'
pitr_restore.backup_dir = '$bkdir'
} . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', q{
CREATE EXTENSION pitr_restore;
CREATE TABLE ledger (tag text PRIMARY KEY, xid bigint NOT NULL DEFAULT txid_current());
} . ($opt{sql} // ''));
	return ($node, $archive);
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
	$node->poll_query_until('postgres',
		"SELECT pg_get_wal_replay_pause_state() = 'paused'")
	  or die 'recovery did not pause at the target';
	return $node;
}

sub row_count
{
	my ($node, $where) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE $where");
}

1;
