# A cleanup hook's secret comes from the server's configuration (issue 18,
# item 3): a pg_write_server_files member's set_config() before
# run_cleanup() does not choose reset_admin's password, and a role setting
# that hides the configured value makes the hook fail rather than use it.
# Needs no pgBackRest, so it runs on every supported version.
use strict;
use warnings;
use lib 'test/lib';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PitrTest;

my ($node, $archive) = new_primary(name => 'secrets');
my ($ret, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }

$node->append_conf('postgresql.conf',
	"app.admin_verifier = 'md5cafecafecafecafecafecafecafecafe'\n");
$node->reload;
sql(q{
CREATE ROLE adm NOLOGIN;
CREATE ROLE writer LOGIN IN ROLE pg_write_server_files;
SELECT pitr_restore.add_cleanup_hook('adm', 'reset_admin',
	'{"role": "adm", "password_setting": "app.admin_verifier"}');
});
$node->poll_query_until('postgres',
	"SELECT current_setting('app.admin_verifier', true) = 'md5cafecafecafecafecafecafecafecafe'")
  or die 'the configured verifier did not arrive';
($out, $err) = as_role($node, 'writer', q{
SELECT set_config('app.admin_verifier', 'md5' || md5('attacker' || 'adm'), false) IS NOT NULL;
SELECT status FROM pitr_restore.run_cleanup();});
is($out, "t\nok", 'run_cleanup as a pg_write_server_files member after set_config');
is(sql(q{SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'adm'}),
	't|md5cafecafecafecafecafecafecafecafe',
	'the password is the one the server\'s configuration holds, not the session\'s');
# A role setting hides the configured value in the role's sessions: the
# hook then fails rather than use it.
sql(q{ALTER ROLE writer SET app.admin_verifier = 'md5deaddeaddeaddeaddeaddeaddeaddead'});
($ret, $out, $err) = $node->psql('postgres', 'SELECT status, detail FROM pitr_restore.run_cleanup()',
	connstr => $node->connstr('postgres') . ' user=writer');
like($out, qr/^failed\|setting "app.admin_verifier" is not taken from the server's configuration/,
	'a role setting is never used: the hook fails');
like($out, qr/Set it in postgresql.conf|never used by a cleanup hook/, 'and says so');
is(sql(q{SELECT rolpassword FROM pg_authid WHERE rolname = 'adm'}),
	'md5cafecafecafecafecafecafecafecafe', 'and the password is unchanged');


done_testing();
