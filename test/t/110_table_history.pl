# table_history (issue 22): what happened to a table, read from the
# archive's WAL.  Among other traffic: a 700-row DELETE, an aborted DELETE,
# an UPDATE inside a released savepoint, a TRUNCATE, a DROP TABLE, and a
# table of another database.  Each is listed with its transaction (the
# xid it recorded itself), its rows and its commit time (equal to
# pg_xact_commit_timestamp); the dropped table by its old name.  The
# delete's xid is a target: resolve_target(target_xid, inclusive => false)
# and a real recovery bring the 700 rows back.  A second history reads
# only the segments that touched the table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary();
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pitr_restore'
autovacuum = off
});
$primary->restart;

$primary->safe_psql('postgres', q{
CREATE TABLE orders (id int PRIMARY KEY, note text DEFAULT 'new', big text);
INSERT INTO orders (id, note) SELECT g, 'order ' || g FROM generate_series(1, 1000) g;
-- a TOASTed value: its chunks are not rows of the table
UPDATE orders SET big = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i)
 WHERE id = 1000;
CREATE TABLE events (id int, what text);
INSERT INTO events SELECT g, 'e' FROM generate_series(1, 300) g;
CREATE TABLE gone (id int, label text);
INSERT INTO gone SELECT g, 'g' || g FROM generate_series(1, 50) g;
CREATE TABLE filler (v int);
});
$primary->safe_psql('postgres', 'CREATE DATABASE other');
$primary->safe_psql('other', q{
CREATE EXTENSION pitr_restore;
CREATE TABLE remote (id int);
});
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b1');

# Other traffic, then the mistakes, each recording its own xid.
my $n_traffic = 0;
sub traffic
{
	my ($n) = @_;
	$primary->safe_psql('postgres',
		"INSERT INTO filler SELECT g FROM generate_series(1, $n) g");
	workload($primary, 't' . ++$n_traffic . '.', 3);
}

traffic(5000);
$primary->safe_psql('postgres', q{
BEGIN;
DELETE FROM orders WHERE id <= 700;
INSERT INTO ledger (tag) VALUES ('delete');
COMMIT;
});
traffic(20000);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
traffic(100);
my $aborted = $primary->safe_psql('postgres', q{
BEGIN;
DELETE FROM orders WHERE id > 990;
SELECT txid_current();
ROLLBACK;
});
$primary->safe_psql('postgres', q{
BEGIN;
INSERT INTO ledger (tag) VALUES ('update');
SAVEPOINT s;
UPDATE orders SET note = 'changed' WHERE id IN (800, 801, 802);
RELEASE SAVEPOINT s;
COMMIT;
});
$primary->safe_psql('postgres', q{
BEGIN;
TRUNCATE events;
INSERT INTO ledger (tag) VALUES ('truncate');
COMMIT;
INSERT INTO events SELECT g, 'after' FROM generate_series(1, 7) g;
});
traffic(3000);
$primary->safe_psql('postgres', q{
BEGIN;
DROP TABLE gone;
INSERT INTO ledger (tag) VALUES ('drop');
COMMIT;
});
my $remote_xid = $primary->safe_psql('other', q{
BEGIN;
INSERT INTO remote SELECT g FROM generate_series(1, 30) g;
SELECT txid_current();
COMMIT;
});
traffic(100);
wait_archived($primary);
$primary->safe_psql('other', 'SELECT pg_switch_wal()');
wait_archived($primary);

my %xid = map { $_ => xid_of($primary, $_) } qw(delete update truncate drop);

# The history as "xid|operation|rows|committed|relation|time ok" (a
# commit's time is pg_xact_commit_timestamp; an abort has its own).
sub history
{
	my ($db, $rel, $where) = @_;
	return $primary->safe_psql($db, qq{
		SELECT h.xid, h.operation, coalesce(h.rows::text, ''),
			   coalesce(h.committed::text, ''), h.relation,
			   CASE WHEN h.committed
					THEN h.commit_time = pg_xact_commit_timestamp(h.xid::text::xid)
					ELSE h.commit_time IS NOT NULL END
		  FROM pitr_restore.table_history('$rel') h
		 WHERE $where
		 ORDER BY h.commit_lsn});
}

is(history('postgres', 'orders', "h.operation = 'delete' AND h.committed"),
	"$xid{delete}|delete|700|true|public.orders|t",
	'the 700-row DELETE: its xid, its rows, its commit time');
is(history('postgres', 'orders', "NOT h.committed"),
	"$aborted|delete|10|false|public.orders|t",
	'an aborted DELETE is listed, not committed');
is(history('postgres', 'public.orders', "h.operation = 'update' AND h.xid = '$xid{update}'"),
	"$xid{update}|update|3|true|public.orders|t",
	'an UPDATE in a released savepoint counts for its top-level transaction');
# One test: the history of $rel's $op operations in postgres is $want (a
# string, or a pattern it matches).
sub history_of
{
	my ($rel, $op, $want, $what) = @_;
	my $got = history('postgres', $rel, "h.operation = '$op'");
	return ref $want ? like($got, $want, $what) : is($got, $want, $what);
}

my $truncated = "$xid{truncate}|truncate||true|public.events|t";
history_of('orders', 'insert', qr/\|insert\|1000\|true\|public\.orders\|t$/m,
	'the load counts 1000 rows (TOAST chunks not counted)');
history_of('orders', 'create', qr/\|create\|\|true\|public\.orders\|t$/,
	'the CREATE TABLE is listed');
history_of('events', 'truncate', $truncated, 'the TRUNCATE: its xid and commit time');
history_of('events', 'insert',
	qr/\|insert\|300\|true\|public\.events\|t\n.*\|insert\|7\|true\|public\.events\|t$/,
	'rows before and after the TRUNCATE (a new relfilenode) are both followed');

# A TRUNCATE in a session without the library (no journal row): the WAL
# still tells it, the table's current file being created and the old one
# dropped by the same transaction.
$primary->safe_psql('postgres',
	"DELETE FROM pitr_restore.relation_journal WHERE event = 'truncate'");
history_of('events', 'truncate', $truncated,
	'a TRUNCATE the journal does not know is read from the WAL');
history_of('events', 'insert', qr/\|insert\|7\|true\|public\.events\|t$/,
	'and the rows after it, in the file pg_class names');

history_of('gone', 'drop', "$xid{drop}|drop||true|public.gone|t",
	'a dropped table is found by its old name');
history_of('gone', 'insert', qr/\|insert\|50\|true\|public\.gone\|t$/,
	'and its rows before the drop');

is(history('other', 'remote', "h.operation = 'insert'"),
	"$remote_xid|insert|30|true|public.remote|t",
	"another database's table, from that database");
my ($ret, $out, $err) = $primary->psql('postgres',
	"SELECT * FROM pitr_restore.table_history('remote')");
like($err, qr/relation "remote" was never seen in this database/,
	"another database's table is not this database's");
($ret, $out, $err) = $primary->psql('postgres',
	"SELECT * FROM pitr_restore.table_history('nosuch')");
like($err, qr/relation "nosuch" was never seen/, 'a relation never seen is an error');

# Every segment's relations are now known: a second history reads only
# those that touched the table (and those its transactions end in).
my $segments = $primary->safe_psql('postgres', q{
	SELECT count(*) FROM pitr_restore.archive_file f
	 WHERE f.kind = 'segment' AND f.status = 'ok'
	   AND NOT EXISTS (SELECT 1 FROM pitr_restore.segment_relations s
					   WHERE s.archive_id = f.archive_id AND s.file_name = f.file_name)});
is($segments, '0', 'every segment has its relations recorded');
my $touched = $primary->safe_psql('postgres', q{
	SELECT count(*) FROM pitr_restore.segment_relations s
	 WHERE s.relfilenodes && ARRAY(SELECT relfilenode FROM pitr_restore.relation_journal
								   WHERE relname = 'gone')});
my $total = $primary->safe_psql('postgres', q{
	SELECT count(*) FROM pitr_restore.archive_file WHERE kind = 'segment'});
ok($touched < $total, "the dropped table touched $touched of $total segments");
($ret, $out, $err) = $primary->psql('postgres', q{SET client_min_messages = debug1;
	SELECT count(*) FROM pitr_restore.table_history('gone')});
my ($read, $of) = $err =~ /table history read (\d+) of (\d+) segments/;
ok(defined $read && $read <= $touched + 1 && $read < $of,
	'the second history of the dropped table read ' . ($read // '?') . ' of ' .
	($of // '?') . ' segments');
is($out, '3', 'and finds the same three operations');

# since / until bound the rows by commit time.
my $t_delete = commit_time_of($primary, 'delete');
is($primary->safe_psql('postgres', qq{
	SELECT count(*) FROM pitr_restore.table_history('orders', since => '$t_delete', until => '$t_delete')}),
	'1', 'since and until select by commit time');

# The delete's xid is the target: recovery stops just before it.
my $res = resolve($primary, "target_xid => '$xid{delete}', inclusive => false");
is($res->{reachable}, 't', 'the moment before the DELETE is reachable');
is($res->{next_xid}, $xid{delete}, 'the DELETE is the first transaction lost');
my $rec = recover($primary, $res);
is($rec->safe_psql('postgres', 'SELECT count(*), sum(id) FROM orders'),
	'1000|500500', 'a real recovery brings the 700 rows back');
$rec->stop;

done_testing();
