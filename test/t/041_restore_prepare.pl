# prepare_restore end to end: for plain, tar, tar.gz and tar.zst backups,
# the directory it builds starts and recovery stops exactly where
# resolve_target predicts, with last_xid kept and next_xid lost; an
# unreachable target is refused with the resolver's reason; once promoted,
# the restore's cleanup hooks run exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary) = new_primary(zstd => 1, sql => q{
CREATE TABLE counter (n int);
INSERT INTO counter VALUES (0);
SELECT pitr_restore.add_cleanup_hook('count', 'sql',
	'{"statement": "UPDATE counter SET n = n + 1"}');
});

workload($primary, 'a', 50);
$primary->backup('plain');
$primary->backup('tar', backup_options => ['-Ft']);
$primary->backup('targz', backup_options => ['-Ft', '--compress=server-gzip']);
$primary->backup('tarzst', backup_options => ['-Ft', '--compress=server-zstd']);
workload($primary, 'b', 100);
$primary->safe_psql('postgres', q{SELECT pg_create_restore_point('rp_mid')});
workload($primary, 'c', 100);
my $t_b70 = commit_time_of($primary, 'b70');
my $lsn_c = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
workload($primary, 'd', 100);
wait_archived($primary);

my $n = 0;
# Build a restore with prepare_restore, start it, check the promise.
sub check_prepare
{
	my ($backup, $format, $args) = @_;
	my $node = PostgreSQL::Test::Cluster->new('restored' . ++$n);
	my $dir = $node->data_dir;
	my $row = $primary->safe_psql('postgres', qq{
		SELECT reachable, backup_format, end_lsn, last_xid, next_xid,
			   files > 0 AND bytes > 0, start_command
		  FROM pitr_restore.prepare_restore('$dir', $args, backup_label => '$backup')});
	my ($reachable, $fmt, $end_lsn, $last_xid, $next_xid, $wrote, $cmd) = split /\|/, $row;
	is($reachable, 't', "$format ($args): reachable");
	is($fmt, $format, "$format: the $format backup was restored");
	is($wrote, 't', "$format: files and bytes reported");
	like($cmd, qr{^pg_ctl -D '\Q$dir\E' -l '\Q$dir\E\.log' -o '-p \d+' start$},
		"$format: the command to start it");
	ok(!-e "$dir/postmaster.pid", "$format: no postmaster.pid");
	ok(-e "$dir/pitr_restore.restored", "$format: the cleanup marker is there");

	start_restored($node, $format,
		"archive_mode = off\nshared_preload_libraries = 'pitr_restore'\n");
	check_stop($node, $format, $end_lsn, $last_xid, $next_xid);
	return $node;
}

my $x_b30 = xid_of($primary, 'b30');
my $node = check_prepare('plain', 'plain', "target_xid => '$x_b30'");
$node->stop('immediate');
$node = check_prepare('tar', 'tar', "target_time => '$t_b70'");
$node->stop('immediate');
$node = check_prepare('targz', 'tar.gz', "target_name => 'rp_mid'");
$node->stop('immediate');
$node = check_prepare('tarzst', 'tar.zst', "target_lsn => '$lsn_c', inclusive => false");

# Promoted, the restore runs its cleanup hooks once, keyed by the marker.
$node->safe_psql('postgres', 'SELECT pg_promote()');
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pitr_restore.cleanup_runs WHERE finished_at IS NOT NULL")
  or die 'cleanup did not run after promotion';
is($node->safe_psql('postgres', 'SELECT trigger FROM pitr_restore.cleanup_runs'),
	'restore built by pitr_restore', 'the hooks ran for the restore the marker names');
is($node->safe_psql('postgres', 'SELECT n FROM counter'), '1', 'the hook ran once');
$node->restart;
$node->poll_query_until('postgres', 'SELECT true');
sleep(2);
is($node->safe_psql('postgres', 'SELECT count(*) || \'|\' || max(n) FROM pitr_restore.cleanup_runs, counter'),
	'1|1', 'and not again after a restart');
$node->stop;

# An unreachable target is an ERROR with the resolver's reason, and
# nothing is built.
my $dir = PostgreSQL::Test::Utils::tempdir('unreachable') . '/restore';
my ($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT * FROM pitr_restore.prepare_restore('$dir', target_time => now() + interval '1 day')},
	extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/restore target is not reachable/, 'an unreachable target is refused');
like($err, qr/DETAIL:  .+/, "with the resolver's reason as the detail");
ok(!-e $dir, 'and nothing is built');

done_testing();
