# Post-restore cleanup run by the background worker: once after a real
# point-in-time recovery, resumed without repeating finished hooks after a
# crash, not again after a restart, and not at all after a plain standby
# promotion.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use lib 'test/lib';
use PitrTest;

# pg_cron comes from Debian's postgresql-15-cron: on another server its
# hook and what it checks are skipped (said below), the rest runs.
my $cron = have_extension('pg_cron');
my $no_cron = 'pg_cron is not installed for PostgreSQL ' . pg_major();
diag("$no_cron: its hook and assertions are skipped") unless $cron;
my $preload = "shared_preload_libraries = '"
  . ($cron ? 'pg_cron,' : '') . "pitr_restore'\n"
  . ($cron ? "cron.database_name = 'postgres'\n" : '')
  . "log_min_messages = debug1\n";

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(has_archiving => 1, allows_streaming => 1);
$primary->append_conf('postgresql.conf', $preload);
$primary->start;

# The application, its hooks, and a pg_cron run that a restore interrupts.
# "slow" sleeps while the file sleep_flag exists in the data directory: how
# the test holds a run in the middle.
$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_cron;
SELECT cron.schedule('yearly', '0 0 1 1 *', 'SELECT 1');
INSERT INTO cron.job_run_details (jobid, status, command, start_time)
	SELECT jobid, 'running', command, now() FROM cron.job;
}) if $cron;
$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION pitr_restore;
CREATE TABLE jobs (id int PRIMARY KEY, status text);
INSERT INTO jobs VALUES (1, 'running'), (2, 'done');
CREATE TABLE counter (n int);
INSERT INTO counter VALUES (0);
});
$primary->safe_psql(
	'postgres', q{
SELECT pitr_restore.add_cleanup_hook('cron', 'jobs_waiting',
	'{"pg_cron": true, "pause_jobs": true}');
}) if $cron;
$primary->safe_psql(
	'postgres', q{
SELECT pitr_restore.add_cleanup_hook('jobs', 'jobs_waiting',
	'{"table": "jobs", "from": ["running"], "to": "waiting"}');
SELECT pitr_restore.add_cleanup_hook('count', 'sql',
	'{"statement": "UPDATE counter SET n = n + 1"}');
SELECT pitr_restore.add_cleanup_hook('slow', 'sql',
	'{"statement": "SELECT pg_sleep(300) FROM pg_stat_file(''sleep_flag'', true) WHERE size IS NOT NULL"}');
SELECT pitr_restore.add_cleanup_hook('count_after', 'sql',
	'{"statement": "UPDATE counter SET n = n + 100"}');
});

$primary->backup('bk');

# Work after the backup: kept up to the restore point, then a mistake.
$primary->safe_psql('postgres', q{INSERT INTO jobs VALUES (3, 'running')});
$primary->safe_psql('postgres', q{SELECT pg_create_restore_point('before_mistake')});
$primary->safe_psql('postgres', q{DELETE FROM jobs});
wait_archived($primary);

# Wait until the worker of database postgres is done with this start.
sub wait_for_run
{
	my ($node, $query) = @_;
	$node->poll_query_until('postgres', $query)
	  or die "timed out waiting for: $query";
}

# $act (a restart, a promotion) is no new restore: the worker finds nothing
# to clean up, and "<cleanup runs> <counter>" is $expect.
sub no_new_run
{
	my ($node, $act, $expect, $what) = @_;
	my $offset = -s $node->logfile;
	$act->();
	$node->wait_for_log(qr/nothing to clean up in database "postgres"/, $offset);
	is( $node->safe_psql(
			'postgres', 'SELECT (SELECT count(*) FROM pitr_restore.cleanup_runs) || \' \' || n FROM counter'),
		$expect, $what);
}

# A real point-in-time recovery to the restore point, crashed in the middle
# of its cleanup run: "slow" cannot finish while sleep_flag exists.
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($primary, 'bk', has_restoring => 1);
$restored->append_conf('postgresql.conf',
	"recovery_target_name = 'before_mistake'\nrecovery_target_action = 'promote'\n");
my $data = $restored->data_dir;
append_to_file("$data/sleep_flag", "sleep\n");
$restored->start;
my $before_slow = $cron ? 3 : 2;
wait_for_run($restored,
	"SELECT count(*) = $before_slow FROM pitr_restore.cleanup_run_hooks");
my ($pm_pid) = split /\n/, slurp_file("$data/postmaster.pid");
$restored->kill9;
unlink("$data/sleep_flag") or die "could not remove sleep_flag: $!";
# the killed postmaster takes a moment to go away; its children follow it
for (my $i = 0; $i < 600 && kill(0, $pm_pid); $i++)
{
	usleep(100_000);
}
sleep(1);
# The restart is no recovery of its own: the run is resumed, not repeated.
$restored->start;
wait_for_run($restored,
	"SELECT count(*) = 1 FROM pitr_restore.cleanup_runs WHERE finished_at IS NOT NULL");

is( $restored->safe_psql(
		'postgres', "SELECT trigger || ' | ' || restore_key FROM pitr_restore.cleanup_runs"),
	'point-in-time recovery | timeline 2: at restore point "before_mistake"',
	'the run says which restore it followed');
is($restored->safe_psql('postgres', 'SELECT id, status FROM jobs ORDER BY id'),
	"1|waiting\n2|done\n3|waiting", 'in-progress jobs of the restored data are waiting again');
is($restored->safe_psql('postgres', 'SELECT n FROM counter'),
	'101', 'after the crash the run finished and no hook ran twice');
SKIP:
{
	skip $no_cron, 1 unless $cron;
	is( $restored->safe_psql(
			'postgres',
			"SELECT count(*) FILTER (WHERE status IN ('running', 'starting')) || ' ' || "
			  . "(SELECT count(*) FILTER (WHERE active) FROM cron.job) FROM cron.job_run_details"),
		'0 0',
		'pg_cron runs left running are closed and jobs paused');
}
is( $restored->safe_psql(
		'postgres',
		"SELECT string_agg(hook || ':' || status, ',' ORDER BY finished_at) FROM pitr_restore.cleanup_run_hooks"),
	($cron ? 'cron:ok,' : '') . 'jobs:ok,count:ok,slow:ok,count_after:ok',
	'per-hook outcomes are recorded');
is( $restored->safe_psql(
		'postgres', 'SELECT hooks_ok FROM pitr_restore.cleanup_runs'),
	$cron ? '5' : '4', 'the resumed run has all hooks');

# A restart is no new restore.
no_new_run($restored, sub { $restored->restart }, '1 101',
	'a restart does not run the hooks again');
$restored->stop;

# A standby promoted without a recovery target is a failover, not a restore.
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
no_new_run($standby, sub { $standby->promote }, '0 0',
	'a plain promotion does not run the hooks');
$standby->stop;

done_testing();
