# Post-restore cleanup after an import: a pg_dump of a database restored
# into another cluster runs its hooks there, once, at the next start.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $preload = "shared_preload_libraries = 'pitr_restore'\nlog_min_messages = debug1\n";

my $source = PostgreSQL::Test::Cluster->new('source');
$source->init;
$source->append_conf('postgresql.conf', $preload);
$source->start;
$source->safe_psql(
	'postgres', q{
CREATE EXTENSION pitr_restore;
CREATE TABLE settings (key text PRIMARY KEY, enabled boolean);
INSERT INTO settings VALUES ('smtp', true), ('theme', true);
SELECT pitr_restore.add_cleanup_hook('mail_off', 'set_column',
	'{"table": "public.settings", "set": {"enabled": false},
	  "where": [{"column": "key", "value": "smtp"}]}');
});

my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->append_conf('postgresql.conf', $preload);
$target->start;
$target->safe_psql('postgres', 'CREATE DATABASE app');

my $dump = PostgreSQL::Test::Utils::tempdir() . '/app.dump';
command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $source->connstr('postgres') ],
	'pg_dump of the source database');
command_ok([ 'pg_restore', '--exit-on-error', '-d', $target->connstr('app'), $dump ],
	'pg_restore into another cluster');
is($target->safe_psql('app', 'SELECT count(*) FROM pitr_restore.cleanup_hook'),
	'1', 'the hooks came with the dump');

# Restarting the source is no import.
my $offset = -s $source->logfile;
$source->restart;
$source->wait_for_log(qr/nothing to clean up in database "postgres"/, $offset);
is($source->safe_psql('postgres', 'SELECT count(*) FROM pitr_restore.cleanup_runs'),
	'0', 'the source cluster runs nothing');

$target->restart;
$target->poll_query_until('app',
	'SELECT count(*) = 1 FROM pitr_restore.cleanup_runs WHERE finished_at IS NOT NULL')
  or die 'timed out waiting for the cleanup run';
is($target->safe_psql('app', 'SELECT key, enabled FROM settings ORDER BY key'),
	"smtp|f\ntheme|t", 'the imported database was cleaned up');
like($target->safe_psql('app', 'SELECT trigger || restore_key FROM pitr_restore.cleanup_runs'),
	qr/^import from another cluster/, 'the run says it followed an import');

# Once: the next start finds this cluster recorded as the database's home.
$offset = -s $target->logfile;
$target->restart;
$target->wait_for_log(qr/nothing to clean up in database "app"/, $offset);
is($target->safe_psql('app', 'SELECT count(*) FROM pitr_restore.cleanup_runs'),
	'1', 'the import is cleaned up after once');

done_testing();
