# Security (issue 9): nothing runs someone else's code as superuser.
#
# A non-superuser app_owner owns database "app" and arms two traps: operators
# public.<>(bigint, bigint) and public.=(text, text) that make app_owner a
# superuser when a superuser calls them, first on the database's
# search_path; and a BEFORE UPDATE trigger on a table a cleanup hook
# updates.  The cleanup worker (a superuser), a manual run_cleanup and a
# superuser's scan_archive must spring neither trap, and the hooks must
# still do their work.  A forged restore marker runs nothing; a real
# restore's marker runs the hooks once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(has_archiving => 1, allows_streaming => 1);
my $archive = $node->archive_dir;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pitr_restore'
log_min_messages = debug1
pitr_restore.archive_dir = '$archive'
});
$node->start;
my $data = $node->data_dir;

$node->safe_psql('postgres', q{
CREATE ROLE app_owner LOGIN;
CREATE ROLE writer LOGIN IN ROLE pg_write_server_files;
CREATE DATABASE app OWNER app_owner;
});
$node->safe_psql('app', q{
CREATE EXTENSION pitr_restore;
SET ROLE app_owner;
-- what every trap records: who ran it, and whether as a superuser
CREATE TABLE public.trap_log (trap text, who name, su text);
GRANT INSERT ON public.trap_log TO PUBLIC;
-- (is_superuser follows the session, not a switch of user: ask the catalog)
CREATE FUNCTION public.spring(trap text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	su boolean := (SELECT rolsuper FROM pg_catalog.pg_roles
				   WHERE rolname OPERATOR(pg_catalog.=) current_user);
BEGIN
	INSERT INTO public.trap_log
		VALUES (trap, current_user, CASE WHEN su THEN 'on' ELSE 'off' END);
	IF su THEN
		EXECUTE 'ALTER ROLE app_owner SUPERUSER';
	END IF;
END $$;
CREATE FUNCTION public.evil_ne(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.spring('operator <>');
	RETURN $1 OPERATOR(pg_catalog.<>) $2;
END $$;
CREATE OPERATOR public.<> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.evil_ne);
CREATE FUNCTION public.evil_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.spring('operator =');
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_eq);
-- the application's table, with the owner's trigger
CREATE TABLE public.settings (key text PRIMARY KEY, enabled boolean);
INSERT INTO public.settings VALUES ('smtp', true), ('theme', true);
CREATE FUNCTION public.settings_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM public.spring('trigger');
	RETURN NEW;
END $$;
CREATE TRIGGER settings_trap BEFORE UPDATE ON public.settings
	FOR EACH ROW EXECUTE FUNCTION public.settings_trigger();
RESET ROLE;
SELECT pitr_restore.add_cleanup_hook('mail_off', 'set_column',
	'{"table": "settings", "set": {"enabled": false},
	  "where": [{"column": "key", "value": "smtp"}]}');
SELECT pitr_restore.add_cleanup_hook('whoami', 'sql',
	'{"statement": "SELECT public.spring(''sql hook'')"}');
});
$node->safe_psql('app', 'ALTER DATABASE app SET search_path = public, pg_catalog');

# Every query of this test in "app" pins its own search_path first.
sub app
{
	my ($n, $sql) = @_;
	return $n->safe_psql('app', "SET search_path = pg_catalog, public;\n$sql");
}

sub is_superuser
{
	my ($n) = @_;
	return app($n, "SELECT rolsuper FROM pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'app_owner'");
}

# What the hooks leave: the settings (mail off, the theme untouched) and
# the traps sprung, by whom, as superuser or not.  Each hook run must
# leave $hooks_done, and the traps $traps_as_owner: both the trigger and
# the sql hook ran as app_owner, neither as superuser.
my $hooks_done = "smtp|f\ntheme|t";
my $traps_as_owner = "sql hook|app_owner|off\ntrigger|app_owner|off";
sub settings { return app(shift, 'SELECT key, enabled FROM public.settings ORDER BY key') }
sub traps { return app(shift, 'SELECT trap, who, su FROM public.trap_log ORDER BY trap') }

# The traps are armed: a superuser with the database's search_path springs
# the operator trap (in a transaction rolled back).
is( $node->safe_psql(
		'app', q{BEGIN;
SELECT 1 WHERE 1::bigint <> 2::bigint;
SELECT rolsuper FROM pg_roles WHERE rolname = 'app_owner';
ROLLBACK;}),
	"1\nt",
	'the operator trap works on a superuser who uses the database search_path');
is(is_superuser($node), 'f', 'app_owner is no superuser to begin with');
is( app($node, 'SELECT options->>\'table\' FROM pitr_restore.cleanup_hook WHERE name = \'mail_off\''),
	'public.settings', 'the hook names its table by schema');

$node->backup('bk');
$node->safe_psql('app', 'SELECT txid_current()');	# WAL after the backup, archived below
my $walfile = $node->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->poll_query_until('postgres',
	"SELECT last_archived_wal >= '$walfile' FROM pg_stat_archiver")
  or die 'timed out waiting for the archive';

# ---- A real restore with the marker prepare_restore writes: hooks run once.
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($node, 'bk', has_restoring => 1, standby => 0);
$restored->append_conf('postgresql.conf', "archive_mode = off\n");
append_to_file($restored->data_dir . '/pitr_restore.restored',
	"restore of app for the security test; built now; token 0123\n");
$restored->start;
$restored->poll_query_until('app',
	'SELECT count(*) = 1 FROM pitr_restore.cleanup_runs WHERE finished_at IS NOT NULL')
  or die 'timed out waiting for the cleanup run of the restore';
is( app($restored, 'SELECT trigger, restore_key, hooks_ok, hooks_failed FROM pitr_restore.cleanup_runs'),
	'restore built by pitr_restore|marker: restore of app for the security test; built now; token 0123|2|0',
	'a real restore runs the hooks, keyed by its marker');
is(settings($restored), $hooks_done, 'the set_column hook did its work');
is(traps($restored), $traps_as_owner,
	'the trigger ran as the table owner and the sql hook as the database owner, neither as superuser');
is(is_superuser($restored), 'f', 'no escalation in the restored cluster');
my $offset = -s $restored->logfile;
$restored->restart;
$restored->wait_for_log(qr/nothing to clean up in database "app"/, $offset);
is(app($restored, 'SELECT count(*) FROM pitr_restore.cleanup_runs'),
	'1', 'a restart of the restored cluster runs nothing more');
$restored->stop;

# ---- The worker after an import, in the trapped database.
app($node, 'INSERT INTO pitr_restore.cluster_identity VALUES (42)');
$node->restart;
$node->poll_query_until('app',
	'SELECT count(*) = 1 FROM pitr_restore.cleanup_runs WHERE finished_at IS NOT NULL')
  or die 'timed out waiting for the cleanup run';
like(app($node, 'SELECT trigger FROM pitr_restore.cleanup_runs'),
	qr/^import/, 'the worker ran the hooks after the import');
is(settings($node), $hooks_done, 'the hook still did its work');
is(traps($node), $traps_as_owner,
	'the worker sprang no operator trap; the trigger ran as the table owner');
is(is_superuser($node), 'f', 'app_owner did not become superuser through the worker');

# ---- A manual run by a pg_write_server_files member.
# (as app_owner: a superuser's UPDATE would spring the trigger trap itself)
app($node, 'SET ROLE app_owner; UPDATE public.settings SET enabled = true; TRUNCATE public.trap_log');
$node->safe_psql('app', q{SET ROLE writer;
SELECT status FROM pitr_restore.run_cleanup() WHERE hook OPERATOR(pg_catalog.=) 'mail_off'});
is(traps($node), $traps_as_owner,
	'run_cleanup runs the hooks as the table owner and run_as, not as its owner');
my ($ret, $out, $err) = $node->psql('app', q{SET ROLE writer;
INSERT INTO pitr_restore.cleanup_runs (trigger, restore_key) VALUES ('forged', 'timeline 9: forged')});
like($err, qr/permission denied for table cleanup_runs/,
	'a pg_write_server_files member cannot forge the audit');

# ---- A forged marker on the live cluster runs nothing, and says so.
$node->safe_psql('app', qq{SET ROLE writer;
COPY (SELECT 'forged') TO '$data/pitr_restore.restored'});
my $runs = app($node, 'SELECT count(*) FROM pitr_restore.cleanup_runs');
$offset = -s $node->logfile;
$node->restart;
$node->wait_for_log(qr/ignoring marker file "pitr_restore.restored" in database "app"/, $offset);
$node->wait_for_log(qr/nothing to clean up in database "app"/, $offset);
is(app($node, 'SELECT count(*) FROM pitr_restore.cleanup_runs'),
	$runs, 'the forged marker ran no hooks');
unlink("$data/pitr_restore.restored");

# ---- A superuser's scan_archive in the trapped database: it runs with a
# pinned search_path, so the database owner's operators are never reached.
app($node, 'SET ROLE app_owner; TRUNCATE public.trap_log');
$node->safe_psql('app', 'SELECT segments_total > 0 FROM pitr_restore.scan_archive()');
is(app($node, "SELECT count(*) FROM public.trap_log WHERE su = 'on'"),
	'0', 'scan_archive by a superuser springs no operator trap');
is(is_superuser($node), 'f', 'app_owner did not become superuser through scan_archive');

$node->stop;
done_testing();
