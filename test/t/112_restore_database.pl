# restore_database (issue 22): a whole database back as it was at a target,
# as a new database of the same server, built by background workers from a
# private side server that is always stopped and removed.  The new database
# has exactly the rows, sequences and objects of the target (its schema
# dumped by pg_dump is the source's), belongs to the caller, and the live
# database is untouched; the source's cleanup hooks run on it when asked;
# bad input is refused with nothing created; a cancel or the backend's exit
# in the middle of the load leaves no new database and no side server.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive, $side_dir) = new_side_primary();

$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('postgres', 'CREATE DATABASE bulk');
$primary->safe_psql('postgres', q{
	CREATE ROLE keeper LOGIN;
	CREATE DATABASE tiny OWNER keeper;
	CREATE ROLE restorer LOGIN CREATEDB
	  IN ROLE pg_execute_server_program, pg_read_server_files, pg_write_server_files;});
$primary->safe_psql('tiny', q{
	SET ROLE keeper;
	CREATE TABLE notes (id serial PRIMARY KEY, body text);
	INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 30) g;});
$primary->safe_psql('app', q{
CREATE EXTENSION pitr_restore;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
	id serial PRIMARY KEY,
	name text NOT NULL UNIQUE,
	mail_on boolean NOT NULL DEFAULT true);
CREATE TABLE shop.orders (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer int NOT NULL REFERENCES shop.customers,
	amount numeric(10,2) CHECK (amount > 0),
	doubled numeric GENERATED ALWAYS AS (amount * 2) STORED);
CREATE INDEX orders_customer_idx ON shop.orders (customer);
CREATE SEQUENCE shop.invoice_no START 1000;
SELECT nextval('shop.invoice_no') FROM generate_series(1, 5);
CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE amount > 50;
INSERT INTO shop.customers (name) SELECT 'c' || g FROM generate_series(1, 100) g;
INSERT INTO shop.orders (customer, amount)
SELECT 1 + g % 100, 1 + g % 97 FROM generate_series(1, 2000) g;
SELECT pitr_restore.add_cleanup_hook('mail_off', 'set_column',
	'{"table": "shop.customers", "set": {"mail_on": false}}');
});
$primary->safe_psql('bulk', q{
CREATE TABLE big (id int, payload text);
INSERT INTO big SELECT g, repeat('x', 60) FROM generate_series(1, 1500000) g;
});
$primary->backup('b1');

# What the target holds: each table's rows, the sequences, the schema.
sub content
{
	my ($db) = @_;
	return $primary->safe_psql($db, q{
		SELECT 'customers', count(*), md5(string_agg(format('%s %s', id, name), ',' ORDER BY id))
		  FROM shop.customers
		UNION ALL
		SELECT 'orders', count(*), md5(string_agg(format('%s %s %s %s', id, customer, amount, doubled), ',' ORDER BY id))
		  FROM shop.orders
		UNION ALL
		SELECT 'sequences', 0, string_agg(format('%s=%s', sequencename, last_value), ',' ORDER BY sequencename)
		  FROM pg_sequences WHERE schemaname = 'shop'
		UNION ALL
		SELECT 'hooks', count(*), string_agg(name, ',') FROM pitr_restore.cleanup_hook});
}
sub schema
{
	my ($db) = @_;
	my $s = `pg_dump --schema-only -d "@{[ $primary->connstr($db) ]}"`;
	die "pg_dump failed" if $?;
	$s =~ s/^\\(un)?restrict .*$//mg;
	$s =~ s/^--.*$//mg;
	return $s;
}
my $at_target = content('app');
my $schema_at_target = schema('app');

my $mistake = $primary->safe_psql('app', q{
BEGIN;
DELETE FROM shop.orders WHERE customer <= 50;
SELECT txid_current();
COMMIT;});
$primary->safe_psql('app', q{
SELECT nextval('shop.invoice_no') FROM generate_series(1, 3);
DROP TABLE shop.customers CASCADE;});
$primary->safe_psql('postgres', 'CREATE DATABASE late');
$primary->safe_psql('postgres', 'DROP DATABASE tiny');
my $live = content_live();
wait_archived($primary);

sub content_live
{
	return $primary->safe_psql('app', q{
		SELECT count(*), (SELECT last_value FROM shop.invoice_no),
			   to_regclass('shop.customers') IS NULL FROM shop.orders});
}

# Nothing of a side server may be left: no directory, no process.
sub nothing_left
{
	my ($what) = @_;
	side_server_gone($side_dir, $what);
	is($primary->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pitr_restore database worker'}),
		'0', "$what: no worker left");
}

my $target = "target_xid => '$mistake', inclusive => false";
my $t0 = time;
my ($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT tables_copied, rows_copied, next_xid, stop_before
	  FROM pitr_restore.restore_database('app', 'app_back', $target)});
my $took = time - $t0;
note(sprintf('restore_database of a small database (2100 rows): %.1f s', $took));
like($out, qr/^\d+\|\d+\|$mistake\|t$/, 'restored, the DELETE lost') or diag($err);
like($err, qr/building the side server.*replaying WAL.*creating database app_back.*loading the schema.*copying the rows.*building indexes.*stopped and removed/s,
	'progress as NOTICEs');
nothing_left('after a restore');

is(content('app_back'), $at_target, 'exactly the rows and sequences of the target');
is(schema('app_back'), $schema_at_target, 'the same objects (pg_dump --schema-only)');
is(content_live(), $live, 'the live database is untouched');
is($primary->safe_psql('postgres', q{
	SELECT a.encoding = b.encoding AND a.datcollate = b.datcollate AND a.datctype = b.datctype,
		   pg_get_userbyid(b.datdba)
	  FROM pg_database a, pg_database b WHERE a.datname = 'app' AND b.datname = 'app_back'}),
	't|' . $primary->safe_psql('postgres', 'SELECT current_user'),
	'same encoding and locale; the new database belongs to the caller');
is($primary->safe_psql('app_back', q{
	INSERT INTO shop.customers (name) VALUES ('new') RETURNING id, nextval('shop.invoice_no')}),
	'101|1005', 'sequences go on from where they were');
($ret, $out, $err) = $primary->psql('app_back', q{
	INSERT INTO shop.orders (customer, amount) VALUES (999, 1)});
like($err, qr/violates foreign key constraint/, 'the foreign key is there');
is($primary->safe_psql('app_back', q{SELECT mail_on, count(*) FROM shop.customers GROUP BY 1}),
	't|101', 'without run_hooks no hook ran');

# run_hooks: the source's hooks, restored with the data, run on the copy.
($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT rows_copied > 0 FROM pitr_restore.restore_database('app', 'app_hooks', $target,
		run_hooks => true)});
is($out, 't', 'restored with run_hooks') or diag($err);
like($err, qr/running the cleanup hooks of database "app"/, 'says it runs the hooks');
is($primary->safe_psql('app_hooks', q{SELECT mail_on, count(*) FROM shop.customers GROUP BY 1}),
	'f|100', 'the hook ran on the new database');
is($primary->safe_psql('app_hooks', q{
	SELECT trigger, hooks_ok, hooks_failed FROM pitr_restore.cleanup_runs}),
	'restore_database|1|0', 'and its run is recorded there');
nothing_left('after run_hooks');

# A role that is not a superuser, with the privileges asked, restores a
# database dropped after the target: the new database and everything in it
# are its own.
($ret, $out, $err) = $primary->psql('postgres', qq{
	SET ROLE restorer;
	SELECT tables_copied, rows_copied FROM pitr_restore.restore_database('tiny', 'tiny_back', $target)});
is($out, '1|30', 'a role with the privileges asked restores a database, dropped since the target')
  or diag($err);
is($primary->safe_psql('tiny_back', q{
	SELECT pg_get_userbyid(d.datdba), pg_get_userbyid(c.relowner), count(*)
	  FROM pg_database d, pg_class c, notes
	 WHERE d.datname = current_database() AND c.oid = 'notes'::regclass GROUP BY 1, 2}),
	'restorer|restorer|30', 'the new database and its tables belong to the caller');
nothing_left('after a restore by a role that is not a superuser');

# An ERROR in the load (only a superuser may create pitr_restore, which
# app has): raised in the caller with its SQLSTATE, the new database gone.
($ret, $out, $err) = $primary->psql('postgres', qq{
	\\set VERBOSITY verbose
	SET ROLE restorer;
	SELECT * FROM pitr_restore.restore_database('app', 'app_denied', $target)});
like($err, qr/ERROR:  42501: permission denied to create extension "pitr_restore".*pitr_restore load worker/s,
	"the load worker's ERROR, with its SQLSTATE");
is($primary->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'app_denied'}),
	'0', 'the half-built database was dropped');
nothing_left('after an ERROR in the load');

# Bad input: a clear error, nothing created.
sub refused
{
	my ($args, $re, $what, $role, $set) = @_;
	my ($r, $o, $e) = $primary->psql('postgres',
		($set // '') . ($role ? "SET ROLE $role; " : '')
		  . "SELECT * FROM pitr_restore.restore_database($args)");
	like($e, $re, $what);
	is($primary->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'x'}),
		'0', "$what: no database created");
}
refused("'app', 'app_back', $target", qr/database "app_back" already exists/,
	'an existing new name');
refused("'nosuch', 'x', $target", qr/database "nosuch" did not exist at the target/,
	'an unknown database');
refused("'late', 'x', $target", qr/database "late" did not exist at the target/,
	'a database that did not exist at the target');
refused("'app', 'x', target_xid => '4000000'",
	qr/restore target is not reachable\nDETAIL:  .+/, 'an unreachable target, with the reason');
$primary->safe_psql('postgres', q{
	CREATE ROLE plain LOGIN;
	CREATE ROLE nocreatedb LOGIN IN ROLE pg_execute_server_program, pg_read_server_files, pg_write_server_files;
	CREATE ROLE nowrite LOGIN CREATEDB IN ROLE pg_execute_server_program, pg_read_server_files;});
refused("'app', 'x', $target",
	qr/permission denied for (schema pitr_restore|function restore_database)/,
	'a plain role may not', 'plain');
refused("'app', 'x', $target",
	qr/permission denied to restore a database\nDETAIL:  Only roles with the CREATEDB attribute/,
	'all three roles without CREATEDB may not', 'nocreatedb');
refused("'app', 'x', $target", qr/permission denied to restore a database/,
	'CREATEDB without writing server files may not', 'nowrite');
nothing_left('after the refusals');

# No room for the side copy (a 4 MB file system test/run.sh mounts as root).
SKIP:
{
	skip 'no small file system to fill (PITR_SMALL_FS; test/run.sh mounts one as root)', 3
	  unless $ENV{PITR_SMALL_FS};
	my $small = $ENV{PITR_SMALL_FS};
	refused("'app', 'x', $target",
		qr/not enough disk space for the side server\nDETAIL:  The base backup needs about [1-9]\d+ bytes; "\Q$small\E\/[^"]+" has \d+ bytes available/,
		'no room for the side copy: the refusal says how much the backup needs',
		undef, "SET pitr_restore.side_server_dir = '$small'; ");
	opendir(my $dh, $small) or die "opendir $small: $!";
	my @left = grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	is(scalar(@left), 0, 'no room: nothing left on the small file system');
}

# A cancel in the middle of the load, then the backend's exit there.
sub interrupted
{
	my ($new, $how) = @_;
	my ($in, $bgout, $bgerr) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-d', $primary->connstr('postgres'), '-c',
		  "SELECT * FROM pitr_restore.restore_database('bulk', '$new', $target)" ],
		'<', \$in, '>', \$bgout, '2>', \$bgerr);
	$primary->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM pg_stat_progress_copy
		 WHERE datname = '$new' AND command = 'COPY FROM' AND tuples_processed > 0})
	  or die "the load did not start: $bgerr";
	$primary->safe_psql('postgres', qq{
		SELECT $how(pid) FROM pg_stat_activity
		 WHERE query LIKE '%restore_database(''bulk'', ''$new''%' AND backend_type = 'client backend'
		   AND pid <> pg_backend_pid()});
	$h->finish;
	return $bgerr;
}
like(interrupted('bulk_cancel', 'pg_cancel_backend'),
	qr/canceling statement due to user request/, 'the load was cancelled');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'bulk_cancel'}),
	'0', 'the half-built database was dropped');
nothing_left('after a cancel mid-load');

like(interrupted('bulk_exit', 'pg_terminate_backend'),
	qr/terminating connection/, 'the backend was terminated mid-load');
ok($primary->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_database WHERE datname = 'bulk_exit'}),
	'the half-built database was dropped after the backend exited');
$primary->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pitr_restore database worker'});
nothing_left('after the backend exited mid-load');

done_testing();
