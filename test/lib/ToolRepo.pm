# A real-tool test bed: a local posix pgBackRest repository and a local
# Barman home for a PostgreSQL::Test::Cluster node, filled by the tools
# themselves (archive-push, Barman's incoming directory, backups), and
# restores done with the tools.  Everything runs as the OS user the tests
# run as, without network: pgBackRest and Barman reach the cluster over its
# Unix socket.
package ToolRepo;

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PitrTest qw(create_ledger wait_paused);

our @EXPORT = qw(tool_primary pgbackrest_setup pgbackrest_run pgbackrest_archive_command
  pgbackrest_backup pgbackrest_backups pgbackrest_info pgbackrest_restore
  barman_setup barman_run barman_archive_command barman_archive_wal
  barman_backup barman_show_backup barman_recover
  tool_empty_node tool_node_configure tool_node_start tool_node_paused
  tools_unsupported);

# pgBackRest 2.45 and Barman 3.4, the versions Debian 12 packages, know
# PostgreSQL up to 15: why the real-tool tests cannot run on the server
# under test, or undef when they can.
sub tools_unsupported
{
	my $v = `pg_config --version`;
	$v =~ /PostgreSQL (\d+)/ or die "unexpected pg_config --version: $v";
	return undef if $1 <= 15;
	return "pgBackRest 2.45 and Barman 3.4 (Debian 12's) do not support PostgreSQL $1";
}

# Run a command, die with its output if it fails; returns stdout.
sub run_tool
{
	my (@cmd) = @_;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(\@cmd, '>', \$stdout, '2>', \$stderr);
	die "command failed: @cmd\nstdout: $stdout\nstderr: $stderr\n" unless $ok;
	return $stdout;
}

# ---- a primary ---------------------------------------------------------

# A primary $name archiving into a pgBackRest stanza (created and checked),
# with the extension and PitrTest's ledger.  %opt:
#   pgbackrest => {...}   pgbackrest_setup's options
#   flat => 1             also copy each segment into the node's archive_dir
#   barman => 1           also push each segment into a Barman home
#   conf => '...'         more postgresql.conf lines
# Returns ($node, $bed): $bed->{pb} (pgbackrest_setup's hash), and with
# the options $bed->{flat} (a directory) and $bed->{bm} (barman_setup's).
sub tool_primary
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(has_archiving => 1, allows_streaming => 1);
	my %bed = (pb => pgbackrest_setup($node, %{ $opt{pgbackrest} // {} }));
	my @cmd = (pgbackrest_archive_command($bed{pb}));
	if ($opt{flat})
	{
		$bed{flat} = $node->archive_dir;
		unshift @cmd, "cp %p $bed{flat}/%f";
	}
	if ($opt{barman})
	{
		$bed{bm} = barman_setup($node);
		push @cmd, barman_archive_command($bed{bm});
	}
	$node->append_conf('postgresql.conf',
		"archive_command = '" . join(' && ', @cmd) . "'\n" . ($opt{conf} // ''));
	$node->start;
	pgbackrest_run($bed{pb}, 'stanza-create');
	create_ledger($node);
	pgbackrest_run($bed{pb}, 'check');
	return ($node, \%bed);
}

# ---- pgBackRest -------------------------------------------------------

# A posix repository with zstd compression for $node, stanza "demo" unless
# told otherwise; with encrypted_repo2, a second, encrypted posix repository
# archive-push also fills (readable only through pgbackrest itself).
# Returns a hash: conf, repo, repo2, stanza, archive (the stanza's archive
# directory), backup.  The node's archive_command is not changed here: use
# pgbackrest_archive_command() in it (possibly next to others).
sub pgbackrest_setup
{
	my ($node, %opt) = @_;
	my $stanza = $opt{stanza} // 'demo';
	my $base = PostgreSQL::Test::Utils::tempdir('pgbackrest');
	my $repo = "$base/repo";
	make_path("$base/log", "$base/lock", $repo);
	my $conf = "$base/pgbackrest.conf";
	my $pgdata = $node->data_dir;
	my $port = $node->port;
	my $host = $node->host;
	my $repo2 = '';
	if ($opt{encrypted_repo2})
	{
		make_path("$base/repo2");
		$repo2 = "repo2-path=$base/repo2\nrepo2-retention-full=2\n"
		  . "repo2-cipher-type=aes-256-cbc\n"
		  . "repo2-cipher-pass=pitr-restore-test-passphrase\n";
	}
	open my $fh, '>', $conf or die "$conf: $!";
	print $fh <<"EOF";
[global]
${repo2}repo1-path=$repo
repo1-retention-full=2
compress-type=zst
log-path=$base/log
lock-path=$base/lock
log-level-console=warn
log-level-file=info
start-fast=y

[$stanza]
pg1-path=$pgdata
pg1-port=$port
pg1-socket-path=$host
EOF
	close $fh;
	return { conf => $conf, repo => $repo, repo2 => "$base/repo2", stanza => $stanza,
		archive => "$repo/archive/$stanza", backup => "$repo/backup/$stanza",
		base => $base };
}

# pgbackrest with the bed's configuration and stanza.
sub pgbackrest_run
{
	my ($pb, @args) = @_;
	return run_tool('pgbackrest', "--config=$pb->{conf}",
		"--stanza=$pb->{stanza}", @args);
}

# An archive_command pushing into the repository; $pgdata is the archiving
# cluster's own data directory when it is not the one the stanza names.
sub pgbackrest_archive_command
{
	my ($pb, $pgdata) = @_;
	my $cmd = "pgbackrest --config=$pb->{conf} --stanza=$pb->{stanza}";
	$cmd .= " --pg1-path=$pgdata" if defined $pgdata;
	return "$cmd archive-push %p";
}

# A backup (full, diff or incr) into repository $repo (default 1);
# returns its label.
sub pgbackrest_backup
{
	my ($pb, $type, $repo) = @_;
	$repo //= 1;
	pgbackrest_run($pb, "--repo=$repo", "--type=$type", 'backup');
	my @b = pgbackrest_backups($pb, $repo);
	return $b[-1]{label};
}

# The backups of one repository, as pgbackrest info lists them.
sub pgbackrest_backups
{
	my ($pb, $repo) = @_;
	return grep { $_->{database}{'repo-key'} == $repo }
	  @{ pgbackrest_info($pb)->[0]{backup} };
}

# pgbackrest info --output=json, decoded.
sub pgbackrest_info
{
	my ($pb) = @_;
	require JSON::PP;
	return JSON::PP::decode_json(pgbackrest_run($pb, '--output=json', 'info'));
}

# Restore into a new node's data directory with pgBackRest's own restore;
# %opt: set, type, target, target_timeline, target_action, exclusive.
# The node is configured (port, socket) but not started.
sub pgbackrest_restore
{
	my ($pb, $name, %opt) = @_;
	my $node = tool_empty_node($name);
	my $pgdata = $node->data_dir;
	my @args = ("--pg1-path=$pgdata");
	push @args, "--set=$opt{set}" if $opt{set};
	push @args, "--type=$opt{type}" if $opt{type};
	push @args, "--target=$opt{target}" if defined $opt{target};
	push @args, "--target-timeline=$opt{target_timeline}"
	  if defined $opt{target_timeline};
	push @args, "--target-action=$opt{target_action}" if $opt{target_action};
	push @args, '--target-exclusive' if $opt{exclusive};
	pgbackrest_run($pb, @args, 'restore');
	tool_node_configure($node);
	return $node;
}

# ---- Barman -----------------------------------------------------------

# A Barman home with one server (named "pg") for $node, WAL arriving
# through its incoming directory.  Returns a hash: conf, home, server, dir
# (the server directory), incoming.
sub barman_setup
{
	my ($node, %opt) = @_;
	my $server = $opt{server} // 'pg';
	my $base = PostgreSQL::Test::Utils::tempdir('barman');
	my $home = "$base/home";
	make_path($home, "$base/conf.d");
	my $conf = "$base/barman.conf";
	my $host = $node->host;
	my $port = $node->port;
	my $user = getpwuid($<);
	my $bindir = $node->config_data('--bindir');
	open my $fh, '>', $conf or die "$conf: $!";
	print $fh <<"EOF";
[barman]
barman_home = $home
barman_user = $user
log_file = $base/barman.log
log_level = INFO
compression = gzip
immediate_checkpoint = true
path_prefix = $bindir
configuration_files_directory = $base/conf.d

[$server]
description = test server
conninfo = host=$host port=$port user=$user dbname=postgres
streaming_conninfo = host=$host port=$port user=$user
backup_method = postgres
archiver = on
streaming_archiver = off
EOF
	close $fh;
	my $dir = "$home/$server";
	# The incoming directory exists before the first WAL arrives.
	make_path("$dir/incoming");
	return { conf => $conf, home => $home, server => $server, dir => $dir,
		incoming => "$dir/incoming", base => $base };
}

sub barman_run
{
	my ($bm, @args) = @_;
	return run_tool('barman', '-c', $bm->{conf}, @args);
}

# Copy %p to a staging name, then rename it into incoming/: Barman never
# sees a half-written file.
sub barman_archive_command
{
	my ($bm) = @_;
	my $in = $bm->{incoming};
	return "cp %p $in/.%f.tmp && mv $in/.%f.tmp $in/%f";
}

# Move what has arrived in incoming/ into wals/.
sub barman_archive_wal
{
	my ($bm) = @_;
	barman_run($bm, 'archive-wal', $bm->{server});
}

# cron, a forced WAL switch, then a backup that waits for its WAL;
# returns the backup id.
sub barman_backup
{
	my ($bm) = @_;
	barman_run($bm, 'cron');
	barman_run($bm, 'switch-wal', '--force', '--archive',
		'--archive-timeout', '60', $bm->{server});
	barman_run($bm, 'backup', '--wait', $bm->{server});
	barman_archive_wal($bm);
	my $id = barman_run($bm, 'list-backups', '--minimal', $bm->{server});
	($id) = split /\n/, $id;	# newest first
	return $id;
}

# barman show-backup, as a hash of its "key : value" lines.
sub barman_show_backup
{
	my ($bm, $id) = @_;
	my $out = run_tool('barman', '-c', $bm->{conf}, 'show-backup',
		$bm->{server}, $id);
	my %h;
	for (split /\n/, $out)
	{
		$h{lc $1} = $2 if /^\s+([^:]+?)\s*:\s*(.*?)\s*$/;
	}
	return \%h;
}

# barman recover into a new node; %opt: target_time, target_xid,
# target_lsn, target_name, target_tli, target_action, exclusive.
sub barman_recover
{
	my ($bm, $id, $name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $pgdata = $node->data_dir;
	my @args;
	for my $k (qw(target_time target_xid target_lsn target_name target_tli
		target_action))
	{
		next unless defined $opt{$k};
		(my $o = $k) =~ s/_/-/g;
		push @args, "--$o", $opt{$k};
	}
	push @args, '--exclusive' if $opt{exclusive};
	barman_run($bm, 'recover', @args, $bm->{server}, $id, $pgdata);
	tool_node_configure($node);
	return $node;
}

# ---- restored nodes ---------------------------------------------------

# A new node $name whose data directory a tool fills: created empty, 0700.
sub tool_empty_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	make_path($node->data_dir);
	chmod 0700, $node->data_dir;
	return $node;
}

# A data directory a tool restored gets this node's port and socket, and
# does not archive unless told (it would push into the archive it reads).
sub tool_node_configure
{
	my ($node) = @_;
	my $port = $node->port;
	my $host = $node->host;
	chmod 0700, $node->data_dir;
	$node->append_conf('postgresql.conf', qq{
port = $port
unix_socket_directories = '$host'
listen_addresses = ''
archive_mode = off
});
	return;
}

# Start a restored node (it recovers), with an optional archive_command.
sub tool_node_start
{
	my ($node, $archive_command) = @_;
	if (defined $archive_command)
	{
		$node->append_conf('postgresql.conf', qq{
archive_mode = on
archive_command = '$archive_command'
});
	}
	$node->start;
	return $node;
}

# tool_node_start, then wait until recovery pauses at the target.
sub tool_node_paused
{
	my ($node) = @_;
	tool_node_start($node);
	wait_paused($node, $node->name);
}

1;
