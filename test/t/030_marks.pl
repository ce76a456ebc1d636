# Marks: at-mark and before-mark by real recoveries; a name made twice
# resolved with mark_after; an aborted marked transaction leaves no mark; a
# mark not yet archived is reported as such.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary();
workload($primary, 'a', 20);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b1');

# A transaction right before the marked one, the marked one, one after.
workload($primary, 'pre', 1);
$primary->safe_psql('postgres', q{
BEGIN;
INSERT INTO ledger (tag) VALUES ('marked1'), ('marked2');
SELECT pitr_restore.mark_transaction('import 7', 'the nightly import');
COMMIT;
});
workload($primary, 'post', 1);

# A marked transaction that aborts.
$primary->safe_psql('postgres', q{
BEGIN;
INSERT INTO ledger (tag) VALUES ('ghost1');
SELECT pitr_restore.mark_transaction('ghost');
ROLLBACK;
});

# A restore-point mark made twice under one name: the marks table lost the
# first (as a restore that rolled it back would), so it was made again.
$primary->safe_psql('postgres', q{SELECT pitr_restore.create_mark('weekly')});
workload($primary, 'between', 5);
my $t_between = $primary->safe_psql('postgres', 'SELECT clock_timestamp()');
$primary->safe_psql('postgres', q{DELETE FROM pitr_restore.marks WHERE name = 'weekly'});
$primary->safe_psql('postgres', q{SELECT pitr_restore.create_mark('weekly', 'again')});
workload($primary, 'after', 5);
wait_archived($primary);

my $x_marked = $primary->safe_psql('postgres',
	q{SELECT xid FROM ledger WHERE tag = 'marked1'});

# At the mark: the marked transaction is kept.
my $res = resolve($primary, "target_mark => 'import 7'");
is($res->{reachable}, 't', 'at-mark is reachable') or diag($res->{reason});
is($res->{last_xid}, $x_marked, 'at-mark keeps the marked transaction');
my $node = recover($primary, $res);
is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $res->{end_lsn},
	'at-mark: recovery stops at the predicted point');
is(row_count($node, q{tag IN ('marked1', 'marked2')}), '2', 'at-mark: the marked rows are there');
is(row_count($node, q{tag = 'pre1'}), '1', 'at-mark: the transaction before it is there');
is(row_count($node, q{tag = 'post1'}), '0', 'at-mark: the transaction after it is not');
$node->stop('immediate');

# Before the mark: the marked transaction is lost.
$res = resolve($primary, "target_mark => 'import 7', inclusive => false");
is($res->{reachable}, 't', 'before-mark is reachable');
is($res->{next_xid}, $x_marked, 'before-mark loses the marked transaction');
$node = recover($primary, $res);
is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $res->{end_lsn},
	'before-mark: recovery stops at the predicted point');
is(row_count($node, q{tag IN ('marked1', 'marked2')}), '0', 'before-mark: the marked rows are not there');
is(row_count($node, q{tag = 'pre1'}), '1', 'before-mark: the transaction before it is there');
$node->stop('immediate');

# restore_points() lists both kinds, from the archive.
is($primary->safe_psql('postgres', q{
	SELECT string_agg(name || ':' || kind || ':' || coalesce(description, '-'), ', ' ORDER BY lsn)
	  FROM pitr_restore.restore_points()}),
	'import 7:transaction_mark:the nightly import, weekly:restore_point:-, weekly:mark:again',
	'restore_points() lists marks of both kinds, and the one the table lost');

# The aborted marked transaction left no mark.
$res = resolve($primary, "target_mark => 'ghost'");
is($res->{reachable}, 'f', 'an aborted marked transaction leaves no mark');
like($res->{reason}, qr/no mark named "ghost" in the archive/, 'and the reason says so');

# A name made twice: target_name stops at the first restore point of the
# name, as recovery does; target_mark at the mark the marks table records
# (issue 9: a restore point of the same name made earlier never wins), and
# mark_after picks among marks.
recovered_rows($primary, resolve($primary, "target_name => 'weekly'"),
	[ q{tag LIKE 'between%'}, '0', 'the first "weekly" comes before the rows between' ]);
recovered_rows($primary, resolve($primary, "target_mark => 'weekly'"),
	[ q{tag LIKE 'between%'}, '5', 'target_mark restores to the "weekly" the marks table records' ]);
$res = resolve($primary, "target_mark => 'weekly', mark_after => '$t_between'");
is($res->{reachable}, 't', 'mark_after picks the second "weekly"');
like($res->{conf}, qr/recovery_target_lsn = /,
	'an LSN target reaches the second occurrence, which recovery_target_name would not');
recovered_rows($primary, $res,
	[ q{tag LIKE 'between%'}, '5', 'the second "weekly" keeps the rows between' ],
	[ q{tag LIKE 'after%'}, '0', 'and not the rows after' ]);

# A mark in the table whose WAL is not archived yet.
$primary->safe_psql('postgres', q{SELECT pitr_restore.create_mark('fresh')});
$res = resolve($primary, "target_mark => 'fresh'");
is($res->{reachable}, 'f', 'a mark not yet archived is unreachable');
like($res->{reason}, qr/in pitr_restore.marks but not \(yet\) in the archive/, 'and the reason says why');

done_testing();
