# WAL that a base backup carries in its own pg_wal counts as available to
# recovery from that backup.  Recovery asks restore_command for a segment
# and, when it fails, reads pg_wal (XLogFileReadAnyTLI): so a segment of a
# backup's start..stop stretch that the archive lost is no hole for a
# backup taken with -X fetch or -X stream (plain or tar).  Each such backup
# resolves a target after its consistency point as reachable, and a real
# recovery built by prepare_restore stops exactly there, with last_xid kept
# and next_xid lost.  The same loss is a hole for a backup taken with
# -X none, and for every other backup, whose own pg_wal does not hold it.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my ($primary, $archive) = new_primary(name => 'backupwal');
# -X fetch needs the backup's WAL still in pg_wal when the backup ends
$primary->append_conf('postgresql.conf', "wal_keep_size = '256MB'\n");
$primary->reload;

my %backups = (
	a_plain_fetch => [ '-Fp', '-Xfetch' ],
	b_tar_stream  => [ '-Ft', '-Xstream' ],
	b_tar_fetch   => [ '-Ft', '-Xfetch' ],
	c_plain_none  => [ '-Fp', '-Xnone' ],
);
foreach my $name (sort keys %backups)
{
	workload($primary, $name, 5);
	# its data then holds no commit within a second of its stop time
	sleep(2);
	$primary->backup($name, backup_options => $backups{$name});
}
# The guard on time targets: a second past every backup's STOP TIME.
sleep(2);
workload($primary, 'd', 20);
wait_archived($primary);
$primary->safe_psql('postgres', 'SELECT pitr_restore.scan_archive()');

my %start_seg;
foreach my $name (sort keys %backups)
{
	my $row = $primary->safe_psql('postgres', qq{
		SELECT pg_walfile_name(start_lsn), coalesce(array_to_string(wal_carried, ','), '<null>')
		  FROM pitr_restore.backups() WHERE location LIKE '%/$name'});
	my ($seg, $carried) = split /\|/, $row;
	$start_seg{$name} = $seg;
	if ($name =~ /none/)
	{
		is($carried, '', "$name: backups() lists no WAL carried");
	}
	else
	{
		like($carried, qr/(^|,)$seg(,|$)/,
			"$name: backups() lists its start segment $seg as carried");
	}
}

my $t = commit_time_of($primary, 'd10');
my $last = xid_of($primary, 'd10');
my $next = xid_of($primary, 'd11');

sub resolve_pinned
{
	my ($name) = @_;
	return resolve($primary, "target_time => '$t', backup_label => '$name'");
}

# Lose one backup's start segment from the archive, and bring it back.
sub lose
{
	my ($name) = @_;
	move("$archive/$start_seg{$name}", "$archive/$start_seg{$name}.lost")
	  or die "move: $!";
	$primary->safe_psql('postgres', 'SELECT pitr_restore.scan_archive()');
}

sub bring_back
{
	my ($name) = @_;
	move("$archive/$start_seg{$name}.lost", "$archive/$start_seg{$name}")
	  or die "move: $!";
	$primary->safe_psql('postgres', 'SELECT pitr_restore.scan_archive()');
}

foreach my $name ('a_plain_fetch', 'b_tar_fetch', 'b_tar_stream')
{
	lose($name);
	my $res = resolve_pinned($name);
	is($res->{reachable}, 't', "$name: reachable though the archive lost $start_seg{$name}")
	  or diag($res->{reason});
	is($res->{last_xid}, $last, "$name: last_xid is the last commit before the target");
	is($res->{next_xid}, $next, "$name: next_xid the first after it");

	# recovery_windows() agrees: a window opens at this backup's stop,
	# from a second past its stop time, and holds the target
	my $win = $primary->safe_psql('postgres', qq{
		SELECT w.from_lsn = b.stop_lsn, w.from_time >= b.stop_time + interval '1 second',
			   '$t'::timestamptz >= w.from_time AND '$t'::timestamptz < w.to_time
		  FROM pitr_restore.recovery_windows() w, pitr_restore.backups() b
		 WHERE '$name' = ANY (w.backups) AND b.location LIKE '%/$name'
		 ORDER BY w.from_lsn LIMIT 1});
	is($win, 't|t|t', "$name: recovery_windows() opens a window at its stop that holds the target");

	# the same loss breaks the path of the earlier backup, which does not carry it
	if ($name ne 'a_plain_fetch')
	{
		my $other = resolve_pinned('a_plain_fetch');
		is($other->{reachable}, 'f',
			'a backup that does not carry the lost segment cannot use another backup\'s copy');
		like($other->{reason}, qr/$start_seg{$name} is missing from the archive/,
			'and the reason names the lost segment');
	}

	# a real recovery from what prepare_restore builds
	my $node = PostgreSQL::Test::Cluster->new("from_$name");
	my $dir = $node->data_dir;
	my ($ret, $row, $err) = $primary->psql('postgres', qq{
		SELECT end_lsn, last_xid, next_xid
		  FROM pitr_restore.prepare_restore('$dir', target_time => '$t',
			   backup_label => '$name', archive_mode => 'off')});
	is($ret, 0, "$name: prepare_restore succeeds") or diag($err);
	my ($end_lsn, $last_xid, $next_xid) = split /\|/, $row;
	start_restored($node, $name);
	check_stop($node, $name, $end_lsn, $last_xid, $next_xid);
	$node->stop('immediate');
	ok(!-e "$archive/$start_seg{$name}",
		"$name: the archive still lacks $start_seg{$name} (recovery read the backup's copy)");

	# a target time within a second of the backup's stop cannot be certain
	my $early = $primary->safe_psql('postgres', qq{
		SELECT stop_time - interval '1 millisecond' FROM pitr_restore.backups()
		 WHERE location LIKE '%/$name'});
	my $res2 = resolve($primary, "target_time => '$early', backup_label => '$name'");
	is($res2->{reachable}, 'f', "$name: a target time before its stop time is not promised");
	like($res2->{reason}, qr/comes partly from its own pg_wal/,
		"$name: because the carried WAL was not read");
	bring_back($name);
}

# -X none: the backup carries nothing, the segment is truly missing.
lose('c_plain_none');
my $none = resolve_pinned('c_plain_none');
is($none->{reachable}, 'f', 'c_plain_none: unreachable when the archive lost its start segment');
like($none->{reason}, qr/$start_seg{c_plain_none} is missing from the archive/,
	'c_plain_none: the reason names the missing segment');
is($primary->safe_psql('postgres', q{
	SELECT count(*) FROM pitr_restore.recovery_windows()
	 WHERE 'c_plain_none' = ANY (backups)}), '0',
	'c_plain_none: recovery_windows() opens no window from it either');
bring_back('c_plain_none');
is(resolve_pinned('c_plain_none')->{reachable}, 't',
	'c_plain_none: reachable again once the segment is back');

done_testing();
