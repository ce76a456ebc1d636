# The archive module under a pgbench run, on whatever server runs the
# suite (its entry point differs between 15 and 16+): every segment pgbench
# fills is archived with its sidecar, and a real recovery from that archive
# stops where resolve_target predicted, in the middle of the run, with
# last_xid kept and next_xid lost.
use strict;
use warnings;
use File::Basename;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

note('server under test: PostgreSQL ' . pg_major());

my ($node, $archive) = new_primary(name => 'benchprimary', module => 1,
	archive_name => 'benchmodarchive',
	sql => 'CREATE TABLE bench_xids (xid bigint NOT NULL DEFAULT txid_current());');

my @conn = ('-p', $node->port, '-h', $node->host, 'postgres');
$node->command_ok([ 'pgbench', '-i', '-s', '1', '-q', @conn ], 'pgbench initialises');
wait_archived($node);
$node->backup('b1');

# pgbench's TPC-B-like transaction, each also recording its own xid.
my $script = $node->basedir . '/tpcb_xid.sql';
append_to_file($script, q{
\set aid random(1, 100000 * :scale)
\set bid random(1, 1 * :scale)
\set tid random(1, 10 * :scale)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
INSERT INTO bench_xids DEFAULT VALUES;
END;
});
$node->command_ok([ 'pgbench', '-n', '-t', '1500', '-c', '2', '-f', $script, @conn ],
	'pgbench runs 3000 transactions');
wait_archived($node);

my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM bench_xids');
is($n, '3000', 'every pgbench transaction committed');
my @segs = grep { /^[0-9A-F]{24}\.zst$/ } map { basename($_) } glob("$archive/*");
cmp_ok(scalar(@segs), '>=', 3, 'the module archived the run\'s segments (' . scalar(@segs) . ')');
is(scalar(grep { !-f "$archive/$_.pitrsum" } @segs), 0, 'each with its sidecar');
is($node->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver'), '0',
	'no archiving failed');

# A target in the middle of the run: the commit time of the 1500th
# transaction by xid.
my $t_mid = $node->safe_psql('postgres', q{
SELECT pg_xact_commit_timestamp(xid::text::xid) FROM bench_xids
 ORDER BY xid OFFSET 1499 LIMIT 1});
my $res = resolve($node, "target_time => '$t_mid'");
is($res->{reachable}, 't', 'a time in the middle of the pgbench run is reachable')
  or diag($res->{reason});
like($res->{location}, qr{/b1$}, 'from the backup taken before the run');
isnt($res->{next_xid}, '', 'the resolver names the first transaction lost');

my $rec = recover($node, $res);
is($rec->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $res->{end_lsn},
	'recovery from the module\'s archive stops at the predicted point');
is($rec->safe_psql('postgres', "SELECT count(*) FROM bench_xids WHERE xid = '$res->{last_xid}'"),
	'1', "last_xid $res->{last_xid} is kept");
is($rec->safe_psql('postgres', "SELECT count(*) FROM bench_xids WHERE xid = '$res->{next_xid}'"),
	'0', "next_xid $res->{next_xid} is lost");
my $kept = $rec->safe_psql('postgres', 'SELECT count(*) FROM bench_xids');
ok($kept > 0 && $kept < 3000, "part of the run is kept ($kept of 3000 transactions)");
is($rec->safe_psql('postgres', 'SELECT count(*) FROM pgbench_history'), $kept,
	'pgbench\'s own rows match the transactions kept');
$rec->stop('immediate');

done_testing();
