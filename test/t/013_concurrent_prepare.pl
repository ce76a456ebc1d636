# Two prepare_restore calls at the same time never make each other
# unreachable: each refreshes the index, and the other's refresh in
# progress is waited for, never taken for the archive's end.  Both are
# called right after new WAL was archived (so both must refresh), for the
# same target and for two different ones; each restore is started and must
# stop where its answer says.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($node) = new_primary(name => 'concurrent');
workload($node, 'a', 10);
$node->backup('b1');
workload($node, 'b', 10);
wait_archived($node);
$node->safe_psql('postgres', 'SELECT * FROM pitr_restore.scan_archive()');

# prepare_restore of a target in its own psql process, started now.
my $n = 0;
sub start_prepare
{
	my ($xid) = @_;
	my $target = PostgreSQL::Test::Cluster->new('prepared' . ++$n);
	my $sql = qq{SELECT reachable, coalesce(reason, ''), stop_lsn, end_lsn, last_xid
		FROM pitr_restore.prepare_restore('@{[ $target->data_dir ]}', target_xid => '$xid')};
	my %run = (node => $target, xid => $xid, out => '', err => '');
	$run{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
		'>', \$run{out}, '2>', \$run{err});
	return \%run;
}

# Wait for it; check its answer, then start the restore and check the stop.
sub check_prepare
{
	my ($run, $what) = @_;
	$run->{h}->finish;
	chomp $run->{out};
	my ($reachable, $reason, $stop, $end, $last) = split /\|/, $run->{out};
	is("$reachable|$last", "t|$run->{xid}", "$what: reachable, keeping $run->{xid}")
	  or diag("$run->{out} $run->{err}");
	return unless ($reachable // '') eq 't';
	my $t = $run->{node};
	start_restored($t, $what, "archive_mode = off\n");
	is($t->safe_psql('postgres', qq{
		SELECT pg_last_wal_replay_lsn() = '$end',
			   (SELECT count(*) FROM ledger WHERE xid = '$run->{xid}')}),
		't|1', "$what: the restore stops at $stop with the transaction in");
	$t->stop('fast');
	return;
}

for my $round (1 .. 3)
{
	# New WAL the index has not seen: both calls refresh it at once.
	workload($node, "s$round", 10);
	workload($node, "d$round", 10);
	wait_archived($node);
	my $same = xid_of($node, "s${round}5");
	my @same = map { start_prepare($same) } 1 .. 2;
	check_prepare($_, "round $round, same target") for @same;

	workload($node, "e$round", 10);
	workload($node, "f$round", 10);
	wait_archived($node);
	my @diff = (start_prepare(xid_of($node, "e${round}3")),
				start_prepare(xid_of($node, "f${round}7")));
	check_prepare($_, "round $round, different targets") for @diff;
}
ok(!$node->log_contains('duplicate key value'), 'no duplicate key error in the server log');

done_testing();
