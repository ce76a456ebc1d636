# The last transaction kept and the first one lost (issue 15), proven by
# real recoveries: last_xid is committed in the recovered cluster and
# next_xid is not, and last_commit_time is what the recovered cluster says
# last_xid committed at.  The hard cases: the stop's own segment holds no
# earlier transaction end, the walk starts at a record that began in an
# earlier segment, a commit record that itself crosses a segment boundary,
# and nothing between the backup's start and the stop.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary();
# Nothing but this test may commit (autovacuum's ANALYZE would).
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->reload;
$primary->safe_psql('postgres', 'CREATE TABLE filler (v int)');
workload($primary, 'a', 5);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b1');

# The first transaction after the backup: nothing is kept before it.
workload($primary, 'first', 1);

# Issue 15's reproduction.
workload($primary, 'x0', 1);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
workload($primary, 'c', 1);
$primary->safe_psql('postgres',
	q{SELECT pg_logical_emit_message(false, 'x', repeat('x', 20000000))});
workload($primary, 'd', 1);

# A commit record of 40 kB (10,000 subtransactions) that begins about
# 20 kB before a segment ends, so it crosses into the next one.
$primary->safe_psql('postgres', q{
BEGIN;
INSERT INTO ledger (tag) VALUES ('big');
DO $$
BEGIN
	FOR i IN 1 .. 10000 LOOP
		BEGIN
			INSERT INTO filler VALUES (i);
		EXCEPTION WHEN OTHERS THEN NULL;
		END;
	END LOOP;
END $$;
DO $$
DECLARE
	seg constant bigint := 16 * 1024 * 1024;
	rem bigint;
BEGIN
	-- Pad with messages (page headers make a message's exact footprint
	-- vary) until 10 to 30 kB remain in the segment.
	LOOP
		rem := seg - (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint % seg;
		EXIT WHEN rem BETWEEN 10000 AND 30000;
		PERFORM pg_logical_emit_message(false, 'pad', repeat('p',
			CASE WHEN rem < 10000 THEN (rem + 20000)::int
				 ELSE ((rem - 20000) * 8000 / 8192)::int END));
	END LOOP;
END $$;
COMMIT;
});
$primary->safe_psql('postgres',
	q{SELECT pg_logical_emit_message(false, 'x', repeat('x', 20000000))});
workload($primary, 'e', 1);
wait_archived($primary);

my %xid = map { $_ => xid_of($primary, $_ eq 'big' ? 'big' : "${_}1") } qw(first x0 c d big e);

sub last_commit_time
{
	my ($args) = @_;
	return $primary->safe_psql('postgres',
		"SELECT coalesce(last_commit_time::text, ''), coalesce(why, '')
		   FROM pitr_restore.resolve_target($args)");
}

# Check the promise for one target; returns the resolution.
sub check_kept
{
	my ($what, $args, $last, $next) = @_;
	my $res = resolve($primary, $args);
	is($res->{reachable}, 't', "$what: reachable") or diag($res->{reason});
	return $res unless $res->{reachable} eq 't';
	is($res->{last_xid}, $last // '', "$what: last_xid");
	is($res->{next_xid}, $next, "$what: next_xid") if defined $next;
	my ($t, $why) = split /\|/, last_commit_time($args), 2;
	my $node = recover($primary, $res);
	is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'),
		$res->{end_lsn}, "$what: recovery stops at the predicted point");
	if ($res->{last_xid} ne '')
	{
		is(row_count($node, "xid = '$res->{last_xid}'"), '1',
			"$what: last_xid $res->{last_xid} is committed");
		is($node->safe_psql('postgres',
				"SELECT pg_xact_commit_timestamp('$res->{last_xid}'::xid)"),
			$t, "$what: last_commit_time is its commit time");
	}
	else
	{
		like($why, qr/no transaction ended between the start of base backup/,
			"$what: why says no transaction is kept");
		is(row_count($node, "tag NOT LIKE 'a%'"), '0',
			"$what: nothing after the backup's start is kept");
	}
	is(row_count($node, "xid = '$res->{next_xid}'"), '0',
		"$what: next_xid $res->{next_xid} is not committed")
	  if $res->{next_xid} ne '';
	$node->stop('immediate');
	return $res;
}

# 1. Before d, by time: the walk starts at the 20 MB message, which began
# in c's segment.
my $t_d = commit_time_of($primary, 'd1');
check_kept('time before d',
	"target_time => '$t_d'::timestamptz - interval '1 microsecond'",
	$xid{c}, $xid{d});

# 2. Before d, by xid: d's commit is the first transaction end of its
# segment.
check_kept('xid d exclusive', "target_xid => '$xid{d}', inclusive => false",
	$xid{c}, $xid{d});

# 3. The boundary-crossing commit as the stop, both ways.
my $res = check_kept('xid big inclusive', "target_xid => '$xid{big}'",
	$xid{big}, $xid{e});
my ($stop, $end) = ($res->{stop_lsn}, $res->{end_lsn});
is($primary->safe_psql('postgres',
	"SELECT pg_walfile_name('$stop') <> pg_walfile_name('$end'::pg_lsn - 1)"),
	't', "big's commit record crosses a segment boundary ($stop..$end)");
check_kept('xid big exclusive', "target_xid => '$xid{big}', inclusive => false",
	$xid{d}, $xid{big});

# 4. The boundary-crossing commit as the last kept, behind 20 MB without
# a transaction.
check_kept('xid e exclusive', "target_xid => '$xid{e}', inclusive => false",
	$xid{big}, $xid{e});
my $t_e = commit_time_of($primary, 'e1');
check_kept('time before e',
	"target_time => '$t_e'::timestamptz - interval '1 microsecond'",
	$xid{big}, $xid{e});

# 5. Nothing ended between the backup's start and the stop.
check_kept('xid first exclusive', "target_xid => '$xid{first}', inclusive => false",
	undef, $xid{first});

# 6. next_xid forward across 20 MB without a transaction: stop after c.
check_kept('xid c inclusive', "target_xid => '$xid{c}'", $xid{c}, $xid{d});

done_testing();
