# resolve_target's promise, checked by real recoveries: start a cluster
# from backup_location with recovery_conf and it stops exactly at the
# predicted point, with last_xid committed and next_xid not.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary(zstd => 1);

$primary->safe_psql('postgres', 'CREATE UNLOGGED TABLE scratch (v int)');
workload($primary, 'a', 100);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b1');
workload($primary, 'b', 100);
$primary->safe_psql('postgres', q{SELECT pg_create_restore_point('rp_mid')});
my $lsn_mid = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
$primary->safe_psql('postgres', q{
BEGIN; INSERT INTO ledger (tag) VALUES ('prepared'); PREPARE TRANSACTION 'px';});
workload($primary, 'bb', 100);
$primary->safe_psql('postgres', q{COMMIT PREPARED 'px'});
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b2');
workload($primary, 'c', 100);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->safe_psql('postgres', q{SELECT pg_create_restore_point('rp_late')});
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
workload($primary, 'cc', 100);
wait_archived($primary);

sub has_xid
{
	my ($node, $xid) = @_;
	return row_count($node, "xid = '$xid'");
}

# Check the promise for one target.
sub check_promise
{
	my ($what, $args) = @_;
	my $res = resolve($primary, $args);
	is($res->{reachable}, 't', "$what: reachable") or diag($res->{reason});
	return $res unless $res->{reachable} eq 't';
	my $node = recover($primary, $res);
	is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'),
		$res->{end_lsn}, "$what: recovery stops at the predicted point");
	is(has_xid($node, $res->{last_xid}), '1', "$what: last_xid $res->{last_xid} is kept");
	is(has_xid($node, $res->{next_xid}), '0', "$what: next_xid $res->{next_xid} is not");
	$node->stop('immediate');
	return $res;
}

# Time targets, inclusive and not, on an exact commit time.
my $t_b50 = commit_time_of($primary, 'b50');
my $res = check_promise('time inclusive', "target_time => '$t_b50'");
is($res->{last_xid}, xid_of($primary, 'b50'), 'time inclusive keeps the transaction committed at that time');
$res = check_promise('time exclusive', "target_time => '$t_b50', inclusive => false");
is($res->{next_xid}, xid_of($primary, 'b50'), 'time exclusive loses the transaction committed at that time');

# Name, LSN, xid and immediate targets.
$res = check_promise('name', "target_name => 'rp_mid'");
is($res->{last_xid}, xid_of($primary, 'b100'), 'name target keeps what precedes the restore point');
$res = check_promise('lsn inclusive', "target_lsn => '$lsn_mid'");
$res = check_promise('lsn exclusive', "target_lsn => '$lsn_mid', inclusive => false");
my $x_c30 = xid_of($primary, 'c30');
$res = check_promise('xid inclusive', "target_xid => '$x_c30'");
is($res->{last_xid}, $x_c30, 'xid inclusive keeps the transaction');
like($res->{location}, qr{/b2$}, 'the latest usable backup is chosen');
$res = check_promise('xid exclusive', "target_xid => '$x_c30', inclusive => false");
is($res->{next_xid}, $x_c30, 'xid exclusive loses the transaction');
my $x_bb30 = xid_of($primary, 'bb30');
my $warnings = $primary->safe_psql('postgres',
	"SELECT array_to_string(warnings, '; ') FROM pitr_restore.resolve_target(target_xid => '$x_bb30')");
like($warnings, qr/prepared transaction \d+ \(GID "px"\) is open at the stop point/,
	'a prepared transaction open at the stop point is reported');
like($warnings, qr/unlogged table public.scratch comes back empty/, 'the caveat of unlogged tables is reported');
unlike($primary->safe_psql('postgres',
	"SELECT array_to_string(warnings, '; ') FROM pitr_restore.resolve_target(target_name => 'rp_mid')"),
	qr/prepared/, 'no prepared transaction is reported where none is open');
$res = resolve($primary, "target => 'immediate'");
is($res->{reachable}, 't', 'immediate is reachable');
my $node = recover($primary, $res);
is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $res->{end_lsn},
	'immediate: recovery stops at the backup\'s consistency point');
$node->stop('immediate');

# A point-in-time restore to c50, promoted, makes timeline 2; meanwhile
# timeline 1 went on (c51..cc100 now lie on an abandoned branch).
my $t_c50 = commit_time_of($primary, 'c50');
my $t_c75 = commit_time_of($primary, 'c75');
my $x_c75 = xid_of($primary, 'c75');
$res = resolve($primary, "target_time => '$t_c50', recovery_action => 'promote'");
my $tl2 = promote($primary, $res, 'timeline2');
workload($tl2, 'd', 100);
wait_archived($tl2);
my $t_d50 = commit_time_of($tl2, 'd50');
my $x_d50 = xid_of($tl2, 'd50');

# A time on the abandoned branch resolves there, with a numeric timeline.
$res = check_promise('time on the abandoned branch', "target_time => '$t_c75'");
is($res->{timeline}, '1', 'time on the abandoned branch resolves to timeline 1');
is($res->{last_xid}, $x_c75, 'the abandoned branch\'s transaction is kept');
like($res->{conf}, qr/recovery_target_timeline = '1'/, 'settings name timeline 1');
# With PostgreSQL's default, recovery follows timeline 2 and silently
# restores something else.
$node = recover($primary, $res, "recovery_target_timeline = 'latest'\n");
is(has_xid($node, $x_c75), '0', "'latest' would have lost the target's transaction");
$node->stop('immediate');

# A time on the new timeline resolves there.
$res = check_promise('time on timeline 2', "target_time => '$t_d50'");
is($res->{timeline}, '2', 'time on timeline 2 resolves to timeline 2');
is($res->{last_xid}, $x_d50, 'timeline 2 transaction kept');

# Unreachable targets: reachable = false and one sentence why.
my $t_a10 = commit_time_of($primary, 'a10');
$res = resolve($primary, "target_time => '$t_a10'");
is($res->{reachable}, 'f', 'a time before the earliest backup is unreachable');
like($res->{reason}, qr/already holds transactions that ended after|before base backup .* is consistent/,
	'and the reason says the backup is newer');
$res = resolve($primary, "target_time => now() + interval '1 hour'");
is($res->{reachable}, 'f', 'a time past the end of the archive is unreachable');
like($res->{reason}, qr/no transaction ended after .*recovery would end before reaching the target/,
	'and the reason says recovery would end first');
$res = resolve($primary, "target_name => 'no_such_point'");
is($res->{reachable}, 'f', 'an unknown restore point is unreachable');
like($res->{reason}, qr/no restore point named "no_such_point"/, 'and the reason names it');
$res = resolve($primary, "target_xid => '999999'");
is($res->{reachable}, 'f', 'an unknown xid is unreachable');
like($res->{reason}, qr/transaction 999999 does not end/, 'and the reason names it');

# A missing middle segment, in a copy of the archive.
my $holed = PostgreSQL::Test::Utils::tempdir('holed');
opendir(my $dh, $archive) or die;
my @files = sort grep { !/^\./ } readdir($dh);
copy("$archive/$_", "$holed/$_") for @files;
my $b2_start = $primary->safe_psql('postgres',
	q{SELECT start_lsn FROM pitr_restore.backups() WHERE location LIKE '%/b2'});
my $victim = $primary->safe_psql('postgres', qq{
	SELECT file_name FROM pitr_restore.segments()
	 WHERE timeline = 1 AND start_lsn > '$b2_start' ORDER BY start_lsn LIMIT 1});
unlink "$holed/$victim" or die;
(my $victim_name = $victim) =~ s/\.zst$//;
my $x_cc90 = xid_of($primary, 'cc90');
$res = resolve($primary, "target_xid => '$x_cc90', target_timeline => 1, archive_dir => '$holed'");
is($res->{reachable}, 'f', 'a target behind a missing segment is unreachable');
like($res->{reason}, qr/\Q$victim_name\E is missing from the archive/,
	'and the reason names the first missing segment');
my $x_c10 = xid_of($primary, 'c10');
$res = resolve($primary, "target_xid => '$x_c10', target_timeline => 1, archive_dir => '$holed'");
is($res->{reachable}, 'f', 'a target inside a missing segment is unreachable');
like($res->{reason}, qr/\Q$victim_name\E is missing from the archive/,
	'and the reason names the missing segment');

# Malformed arguments are errors.
my ($ret, $out, $err) = $primary->psql('postgres',
	"SELECT * FROM pitr_restore.resolve_target(target_name => 'x', target_lsn => '0/1')");
like($err, qr/more than one recovery target given/, 'two targets are an error');
($ret, $out, $err) = $primary->psql('postgres',
	"SELECT * FROM pitr_restore.resolve_target()");
like($err, qr/no recovery target given/, 'no target is an error');

# Bad arguments: a clear error or a documented answer, never a crash or a
# long loop.
for my $case (
	[ "target_name => ''", qr/recovery target name must not be empty/ ],
	[ "target_mark => ''", qr/recovery target name must not be empty/ ],
	[ "target_name => repeat('n', 100000)", qr/recovery target name is too long/ ],
	[ "target_timeline => -1, target => 'immediate'", qr/invalid timeline -1/ ],
	[ "target => 'soon'", qr/invalid recovery target "soon"/ ],
	[ "target => 'immediate', inclusive => NULL", qr/inclusive must not be null/ ],
	[ "target => 'immediate', recovery_action => NULL", qr/invalid recovery_action/ ],
	[ "target_time => now(), mark_after => now()", qr/mark_after applies only/ ],
	[ "target => 'immediate', archive_dir => 'relative/dir'", qr/is not an absolute path/ ],
	[ "target_name => NULL", qr/no recovery target given/ ])
{
	($ret, $out, $err) = $primary->psql('postgres',
		"SELECT reachable FROM pitr_restore.resolve_target($case->[0])");
	like($err, $case->[1], "resolve_target($case->[0]) is an error");
}
for my $case (
	[ "target_lsn => 'FFFFFFFF/FFFFFFFF'", qr/would end before reaching the target/ ],
	[ "target_lsn => '0/0'", qr/./ ],
	[ "target_xid => '18446744073709551615'", qr/does not end/ ],
	[ "target_time => 'infinity'", qr/no transaction ended after infinity/ ],
	[ "target_time => '-infinity'", qr/already holds transactions/ ],
	[ "target => 'immediate', target_timeline => 2147483647", qr/timeline 2147483647 is not in the archive/ ],
	[ "target_mark => 'no such mark', mark_after => 'infinity'", qr/no mark named/ ],
	[ "target => 'immediate', backup_label => 'no such backup'", qr/no usable base backup no such backup/ ])
{
	my $started = time;
	$res = resolve($primary, $case->[0]);
	is($res->{reachable}, 'f', "resolve_target($case->[0]) is unreachable");
	like($res->{reason}, $case->[1], "resolve_target($case->[0]): and says why");
	cmp_ok(time - $started, '<', 30, "resolve_target($case->[0]) answers at once");
}
# Internal helpers are not callable by the reading role.
$primary->safe_psql('postgres', q{
CREATE ROLE reader LOGIN; GRANT pg_read_server_files TO reader;
GRANT USAGE ON SCHEMA pitr_restore TO reader});
($ret, $out, $err) = $primary->psql('postgres',
	q{SELECT * FROM pitr_restore.timeline_path(1, 1)},
	extra_params => [ '-U', 'reader' ]);
like($err, qr/permission denied for function timeline_path/, 'timeline_path is internal');
($ret, $out, $err) = $primary->psql('postgres',
	q{SELECT pitr_restore.wal_gap(1, 1, '0/0', 'FFFFFFFF/FFFFFFFF')},
	extra_params => [ '-U', 'reader' ]);
like($err, qr/permission denied for function wal_gap/, 'wal_gap is internal');
$res = $primary->safe_psql('postgres',
	q{SELECT reachable FROM pitr_restore.resolve_target(target => 'immediate')},
	extra_params => [ '-U', 'reader' ]);
is($res, 't', 'the reading role resolves');
unlike(slurp_file($primary->logfile), qr/terminated by signal/, 'no backend crashed');

# tool_command: NULL for a flat archive (there is no tool of its own), set
# only for pgBackRest and Barman archives; it is the resolution's last
# column and prepared_restore carries it right after why.
is($primary->safe_psql('postgres', q{
	SELECT r.reachable, r.tool_command IS NULL, r.recovery_conf IS NOT NULL
	  FROM pitr_restore.resolve_target(target => 'immediate') r}),
	't|t|t', 'a flat archive has no tool_command');
is($primary->safe_psql('postgres', q{
	SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
	 WHERE attrelid IN ('pitr_restore.resolution'::regclass, 'pitr_restore.prepared_restore'::regclass)
	   AND attname IN ('why', 'tool_command') AND attnum > 0
	 GROUP BY attrelid ORDER BY attrelid::regclass::text}),
	"why,tool_command\nwhy,tool_command", 'tool_command follows why in both result types');
is($primary->safe_psql('postgres', q{
	SELECT (SELECT attnum FROM pg_attribute WHERE attrelid = 'pitr_restore.prepared_restore'::regclass AND attname = 'tool_command')
	     - (SELECT attnum FROM pg_attribute WHERE attrelid = 'pitr_restore.prepared_restore'::regclass AND attname = 'why')}),
	'1', 'prepared_restore: tool_command right after why');

# An archive whose directory name would run a command if it reached a
# shell unquoted, and whose "%p" recovery would expand: a restore from it
# works by a real recovery, and nothing is executed.  On the same primary,
# a restore point made first under a mark's name does not capture the mark.
my $base = PostgreSQL::Test::Utils::tempdir('quoted');
my $qarchive = "$base/dir with 'quote\" \$(touch pwned) %p";
mkdir $qarchive or die "mkdir: $!";
chmod 0777, $base, $qarchive;
(my $sh = $qarchive) =~ s/'/'\\''/g;
$sh = "'$sh'";
(my $cmd = "cp %p $sh/%f") =~ s/%(?!p |f$)/%%/g;
# A postgresql.conf literal: backslashes and quotes doubled (new_primary
# does the same for the directory).
(my $conf_cmd = $cmd) =~ s/(['\\])/$1$1/g;
my ($quoted) = new_primary(name => 'quoted', archive => $qarchive,
	archive_command => $conf_cmd, conf => "autovacuum = off\n", sql => q{
CREATE ROLE rp_maker LOGIN;
GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO rp_maker;
});
workload($quoted, 'q', 10);
$quoted->safe_psql('postgres', 'SELECT pg_switch_wal()');
$quoted->backup('qb1');
workload($quoted, 'r', 10);
$quoted->safe_psql('postgres', q{SELECT pg_create_restore_point('before import 42')},
	extra_params => [ '-U', 'rp_maker' ]);
workload($quoted, 'between', 5);
$quoted->safe_psql('postgres', q{SELECT pitr_restore.create_mark('before import 42')});
workload($quoted, 'after', 5);
wait_archived($quoted);
# The directory as one shell word, its % doubled, in a conf literal.
(my $want = $sh) =~ s/%/%%/g;
$want = "cp $want/%f '%p'";
$want =~ s/(['\\])/$1$1/g;
$res = resolve($quoted, "target_xid => '@{[ xid_of($quoted, 'r5') ]}'");
is($res->{reachable}, 't', 'a target in the quoted archive is reachable') or diag($res->{reason});
like($res->{conf}, qr/^restore_command = \Q'$want'\E\n/m,
	'restore_command quotes the directory as a shell word and doubles its %');
$node = recover($quoted, $res);
is($node->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()'), $res->{end_lsn},
	'recovery from the quoted archive stops at the predicted point');
is(row_count($node, q{tag = 'r5'}), '1', 'and keeps the target transaction');
is(row_count($node, q{tag = 'r6'}), '0', 'and not the next one');
$node->stop('immediate');

# The mark, not the restore point of the same name made before it.
$res = resolve($quoted, "target_mark => 'before import 42'");
is($res->{reachable}, 't', 'the mark is reachable') or diag($res->{reason});
like($res->{conf}, qr/recovery_target_lsn = /,
	'the mark is reached by its LSN, since its name would stop at the earlier restore point');
recovered_rows($quoted, $res,
	[ q{tag LIKE 'between%'}, '5', 'the mark keeps what came before it' ],
	[ q{tag LIKE 'after%'}, '0', 'and not what came after' ]);

my @pwned;
File::Find::find(sub { push @pwned, $File::Find::name if $_ eq 'pwned' },
	$PostgreSQL::Test::Utils::tmp_check, $base);
is(scalar(@pwned), 0, 'nothing in a directory name was executed') or diag("@pwned");
$quoted->stop;

done_testing();
