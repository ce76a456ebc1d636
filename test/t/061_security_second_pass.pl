# Security, second pass (issue 18): each rule shown by a real attempt.
#
# 1. Privileges are those of the role whose code runs: a pg_read_server_files
#    member's expression index analyzed by a superuser or by autovacuum, and
#    its SECURITY DEFINER function called by a superuser, never make the
#    server run pgbackrest with the member's configuration (a canary log
#    directory stays empty); the superuser's own call does run it.
# 2. A restore point name pgBackRest would write unescaped never reaches it:
#    tool_command targets the point by LSN, and running it for real gives a
#    cluster with no injected setting that stops at the point.
# 3. (in 062_hook_secrets.pl, which needs no pgBackRest) A cleanup hook's
#    secret comes from the server's configuration: a
#    set_config before run_cleanup does not choose the password.
# 4. Control characters in names are escaped in why, check_archive and the
#    chart, and the SVG stays well-formed XML; a name made in a SQL_ASCII
#    database is stored escaped and still resolves to its restore point.
# 5. prepare_restore refuses targets inside a pgBackRest repository (both
#    forms) or a Barman server directory; both forms list the same backups.
# 6. config=/dev/zero is refused at once; a cancel or statement_timeout
#    while pgbackrest hangs kills it and returns within a second.
use strict;
use warnings;
use lib 'test/lib';
use File::Path qw(make_path);
use IO::Socket::INET;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PitrTest;
use ToolRepo;

# Everything below stands on a pgBackRest stanza (its archive, its backup).
my $unsupported = tools_unsupported();
plan skip_all => $unsupported if $unsupported;

my ($node, $bed) = tool_primary('primary',
	conf => "shared_preload_libraries = 'pitr_restore'\nautovacuum_naptime = 1\n");
my $pb = $bed->{pb};
pgbackrest_backup($pb, 'full');
my $pgbr = $pb->{archive};
my $pgkw = "pgbackrest:stanza=$pb->{stanza} config=$pb->{conf}";
my $bindir = $node->config_data('--bindir');
my $tmp = PostgreSQL::Test::Utils::tempdir('sec2');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# ---- 1. the role whose code runs --------------------------------------

# A configuration that makes pitr_restore run pgbackrest (an encrypted
# repository is read through the binary) whose cmd-ssh is the member's own
# script: if pgbackrest runs, the script runs as the server's OS user and
# writes into the canary directory.
my $canary = "$tmp/canary";
make_path($canary);
chmod 0777, $canary;
my $script = "$tmp/ssh.sh";
open my $fh, '>', $script or die;
print $fh "#!/bin/sh\necho \"ran \$*\" >> $canary/RAN\nexit 1\n";
close $fh;
chmod 0755, $script;
my $evil = "$tmp/evil.conf";
open $fh, '>', $evil or die;
print $fh <<"EOF";
[global]
repo1-host=canaryhost
repo1-path=$tmp/nowhere
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=x
cmd-ssh=$script

[canary]
pg1-path=$tmp/nowhere
EOF
close $fh;
chmod 0644, $evil;
my $evilkw = "pgbackrest:stanza=canary config=$evil";

sub canary_silent
{
	opendir my $d, $canary or die;
	my @f = grep { !/^\./ } readdir $d;
	closedir $d;
	return @f == 0;
}

sql(q{
CREATE ROLE reader LOGIN IN ROLE pg_read_server_files;
CREATE ROLE runner LOGIN IN ROLE pg_read_server_files, pg_execute_server_program;
GRANT CREATE ON SCHEMA public TO reader, runner;
});
for my $role ('reader', 'runner')
{
	my (undef, $err) = as_role($node, $role, qq{
CREATE FUNCTION public.${role}_f(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN
	-- only in someone else's session (ANALYZE, autovacuum): the members'
	-- own writes below are their own business
	IF session_user <> current_user THEN
		BEGIN
			PERFORM pitr_restore.scan_archive('$evilkw');
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'canary refused for %: %', current_user, SQLERRM;
		END;
	END IF;
	RETURN i;
END \$\$;
CREATE TABLE public.${role}_t (a int) WITH (autovacuum_analyze_threshold = 0,
	autovacuum_analyze_scale_factor = 0, autovacuum_vacuum_threshold = 100000);
CREATE INDEX ON public.${role}_t ((public.${role}_f(a)));
CREATE FUNCTION public.${role}_sd() RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS \$\$
BEGIN
	PERFORM pitr_restore.scan_archive('$evilkw');
	RETURN 'ran';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLERRM;
END \$\$;
});
	is($err =~ /ERROR/ ? $err : '', '', "$role set up its index and function");
}
ok(canary_silent(), 'creating the indexes ran no program');

# The members fill their tables (a superuser who wrote into them would run
# their index expressions as itself: PostgreSQL's own rule, not ours), then
# a superuser analyzes them.
sub as_login
{
	my ($role, $query) = @_;
	$node->safe_psql('postgres', $query, connstr => $node->connstr('postgres') . " user=$role");
}
as_login('reader', 'INSERT INTO reader_t SELECT generate_series(1, 10)');
as_login('runner', 'INSERT INTO runner_t SELECT generate_series(1, 10)');
my ($ret, $out, $err) = $node->psql('postgres', 'ANALYZE reader_t; ANALYZE runner_t;');
like($err, qr/canary refused for reader: cannot run a program within a security-restricted operation/,
	'ANALYZE by a superuser: the reader\'s index expression may not run pgbackrest');
like($err, qr/canary refused for runner: cannot run a program within a security-restricted operation/,
	'nor may a pg_execute_server_program member\'s, inside ANALYZE');
ok(canary_silent(), 'the canary stayed silent under a superuser\'s ANALYZE');

# Autovacuum analyzes them (as the superuser bootstrap role).
as_login('reader', 'INSERT INTO reader_t SELECT generate_series(11, 100)');
as_login('runner', 'INSERT INTO runner_t SELECT generate_series(11, 100)');
$node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM pg_stat_user_tables
	 WHERE relname IN ('reader_t', 'runner_t') AND autoanalyze_count > 0})
  or die 'autovacuum did not analyze the tables';
my $log = slurp_file($node->logfile);
like($log, qr/canary refused for reader: cannot run a program within a security-restricted operation/,
	'autovacuum: the index expression was refused');
ok(canary_silent(), 'the canary stayed silent under autovacuum');

# A superuser calls the members' SECURITY DEFINER functions.
like(sql('SELECT public.reader_sd()'),
	qr/permission denied to read a pgBackRest repository through the pgbackrest program/,
	'a superuser calling the reader\'s SECURITY DEFINER function: the reader\'s privileges apply');
ok(canary_silent(), 'the canary stayed silent');
($out, $err) = as_role($node, 'reader', "SELECT * FROM pitr_restore.scan_archive('$evilkw')");
like($err, qr/permission denied to read a pgBackRest repository through the pgbackrest program/,
	'the reader calling directly is refused');
# Reading server files is still the reader's right, directly.
($out, $err) = as_role($node, 'reader', "SELECT segments_total > 0 FROM pitr_restore.scan_archive('$pgbr')");
is($out, 't', 'the reader scans a local repository');
ok(canary_silent(), 'the canary stayed silent through every attempt');

# The canary can sing: the superuser's own call runs pgbackrest.
$node->psql('postgres', "SELECT * FROM pitr_restore.scan_archive('$evilkw')");
ok(!canary_silent(), 'control: a superuser\'s own call does run pgbackrest (the script ran)');

# ---- 2. tool_command and a hostile restore point name -----------------

workload($node, 'p', 50);
sql(q{SELECT pg_create_restore_point(E'x''\narchive_cleanup_command=''pwn''#')});
workload($node, 'q', 50);

# ---- names with control characters (4) ---------------------------------
for my $n (1 .. 2)
{
	sql(q{SELECT pg_create_restore_point(E'esc\x1b[31mred'), pg_create_restore_point(E'bel\x07'),
		pg_create_restore_point(E'nl\n critical | wal_gap | forged')});
}
# A restore point made in a SQL_ASCII database: its name is not UTF-8.
sql(q{CREATE DATABASE asc_db ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
workload($node, 's', 10);
$node->safe_psql('asc_db', q{SELECT pg_create_restore_point(E'bad\\xff')});
workload($node, 't', 10);
wait_archived($node);

my $hostile = q{E'x''\narchive_cleanup_command=''pwn''#'};
my $row = sql(qq{SELECT reachable, tool_command, array_to_string(warnings, ' / '), stop_lsn
	FROM pitr_restore.resolve_target(target_name => $hostile, archive_dir => '$pgbr')});
my ($reachable, $tool, $warnings, $stop_lsn) = split /\|/, $row, 4;
is($reachable, 't', 'the hostile restore point resolves');
like($tool, qr/ --type=lsn '--target=\Q$stop_lsn\E' /, 'tool_command targets it by its LSN');
unlike($tool, qr/archive_cleanup_command/, 'the name is not in tool_command');
like($warnings, qr/tool_command targets the restore point by its LSN \Q$stop_lsn\E: pgBackRest would write its name into postgresql.auto.conf unescaped/,
	'a warning says why');
like(sql(qq{SELECT recovery_conf FROM pitr_restore.resolve_target(target_name => $hostile, archive_dir => '$pgbr')}),
	qr/recovery_target_name = 'x''\\narchive_cleanup_command=''pwn''#'/,
	'recovery_conf still names the point, escaped');
{
	my $t = tool_empty_node('tool_restored');
	my $dir = $t->data_dir;
	local $ENV{PGDATA} = $dir;
	system('bash', '-c', $tool) == 0 or die "tool_command failed: $tool";
	my $auto = slurp_file("$dir/postgresql.auto.conf");
	unlike($auto, qr/pwn/, 'postgresql.auto.conf written by pgBackRest holds no injected setting');
	my ($acc, $accerr) = run_command([ "$bindir/postgres", '-D', $dir, '-C', 'archive_cleanup_command' ]);
	is("$acc|$accerr", '|', 'postgres -C archive_cleanup_command: empty');
	tool_node_configure($t);
	tool_node_paused($t);
	is($t->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE tag LIKE 'p%'),
		count(*) FILTER (WHERE tag LIKE 'q%') FROM ledger}), '50|0',
		'the restored cluster stopped at the restore point');
	is($t->safe_psql('postgres', 'SHOW archive_cleanup_command'), '',
		'nor does the running restored cluster');
	$t->stop;
}

# ---- 4. one display rule -----------------------------------------------

my $ctl = qr/[\x00-\x08\x0b-\x1f\x7f]/;
{
	my $why = sql(qq{SELECT coalesce(why, '') FROM pitr_restore.resolve_target(target_name => E'bel\\x07', archive_dir => '$pgbr')});
	unlike($why, qr/\x07/, 'why: no raw BEL');
	like($why, qr/bel\\x07/, 'why: BEL shown escaped');
	my $check = sql(qq{SELECT string_agg(detail, '|') FROM pitr_restore.check_archive('$pgbr') WHERE problem = 'repeated_restore_point'});
	like($check, qr/esc\\x1b\[31mred/, 'check_archive names the ESC restore point, escaped');
	unlike($check, $ctl, 'check_archive detail: no raw control character');
	unlike($check, qr/\n/, 'check_archive detail: no raw newline (no forged line)');
	like($check, qr/nl\\n critical/, 'the newline is shown as \\n');
	my $chart = sql(qq{SELECT string_agg(l, E'\\n') FROM pitr_restore.timeline_chart('$pgbr') l});
	unlike($chart, $ctl, 'the chart: no raw control character');
	my $svg = sql(qq{SELECT pitr_restore.timeline_svg('$pgbr')});
	my $file = "$tmp/chart.svg";
	open my $s, '>', $file or die;
	print $s $svg;
	close $s;
	my ($xout, $xerr) = run_command([ 'xmllint', '--noout', $file ]);
	is($xerr, '', 'timeline_svg with ESC, BEL and newline names passes xmllint --noout');
	like($svg, qr/esc\\x1b\[31mred/, 'the SVG shows the ESC name escaped');
}

# A name invalid in the database encoding: stored and shown escaped, and
# still the stop recovery makes (told by LSN, not by those bytes).
{
	is(sql(qq{SELECT name FROM pitr_restore.restore_points('$pgbr') WHERE name LIKE 'bad%'}),
		'bad\\xff', 'the SQL_ASCII name is stored with its invalid byte escaped');
	my $r = sql(qq{SELECT reachable, backup_label, recovery_conf FROM pitr_restore.resolve_target(target_name => 'bad\\xff', archive_dir => '$pgbr')});
	my ($ok, $label, $conf) = split /\|/, $r, 3;
	is($ok, 't', 'it resolves by its escaped name');
	like($conf, qr/recovery_target_lsn = /, 'recovery is told the stop by LSN');
	my $n = pgbackrest_restore($pb, 'asc_restored', set => $label, type => 'none');
	$n->append_conf('postgresql.auto.conf', $conf);
	tool_node_paused($n);
	is($n->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE tag LIKE 's%'),
		count(*) FILTER (WHERE tag LIKE 't%') FROM ledger}), '10|0',
		'a real recovery stops at that restore point');
	$n->stop;
}

# ---- 3. secrets from the server's configuration: test/t/062 (every version)

# ---- 5. repositories protected like archives ---------------------------

my $n_backups_dir = sql("SELECT count(*) FROM pitr_restore.backups('$pgbr') WHERE location IS NOT NULL");
ok($n_backups_dir > 0, 'the directory form lists the backups');
is(sql("SELECT count(*) FROM pitr_restore.backups('$pgkw') WHERE location IS NOT NULL"),
	$n_backups_dir, 'the keyword form lists the same backups after a directory-form scan');
for my $case (
	[ "$pb->{repo}/backup/$pb->{stanza}/restore_here", $pgbr, 'backup/ of the repository, directory form' ],
	[ "$pb->{repo}/backup/$pb->{stanza}/restore_here", $pgkw, 'backup/ of the repository, keyword form' ],
	[ "$pb->{repo}/archive/$pb->{stanza}/restore_here", $pgkw, 'archive/ of the repository, keyword form' ],
	[ "$pb->{repo}/restore_here", $pgbr, 'the repository root, directory form' ])
{
	my ($target, $loc, $what) = @$case;
	($ret, $out, $err) = $node->psql('postgres',
		"SELECT * FROM pitr_restore.prepare_restore('$target', target => 'immediate', archive_dir => '$loc')");
	like($err, qr/overlaps (the pgBackRest repository|the archive)/, "prepare_restore into $what is refused");
	ok(!-e $target, "and nothing was written there ($what)");
}
{
	my $bm = "$tmp/barman/pg";
	make_path("$bm/wals", "$bm/base");
	($ret, $out, $err) = $node->psql('postgres',
		"SELECT * FROM pitr_restore.prepare_restore('$bm/base/restore_here', target => 'immediate', archive_dir => '$bm')");
	like($err, qr/overlaps the archive/, 'prepare_restore into a Barman server directory is refused');
}

# ---- 6. bounded reads, cancellable programs ----------------------------

{
	my $t0 = time;
	($ret, $out, $err) = $node->psql('postgres',
		"SELECT * FROM pitr_restore.scan_archive('pgbackrest:stanza=x config=/dev/zero')");
	my $took = time - $t0;
	like($err, qr{"/dev/zero" is not a regular file}, 'config=/dev/zero is refused');
	ok($took < 2, sprintf('at once (%.2f s)', $took));
}

# An S3 "endpoint" that accepts connections and never answers: pgbackrest
# waits in its TLS handshake (io-timeout 60 s) unless it is killed.
my $silent = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
	LocalPort => 0, Proto => 'tcp') or die "listen: $!";
my $port = $silent->sockport;
my $hang = "$tmp/hang.conf";
open $fh, '>', $hang or die;
print $fh <<"EOF";
[global]
repo1-type=s3
repo1-path=/repo
repo1-s3-bucket=bucket
repo1-s3-endpoint=127.0.0.1
repo1-s3-uri-style=path
repo1-s3-region=us-east-1
repo1-s3-key=key
repo1-s3-key-secret=secret
repo1-storage-port=$port
repo1-storage-verify-tls=n
log-level-file=off

[hang]
pg1-path=$tmp/nowhere
EOF
close $fh;
chmod 0644, $hang;

sub pgbackrest_running
{
	my $ps = `ps -eo args`;
	return scalar grep { /pgbackrest/ && /\Q$hang\E/ } split /\n/, $ps;
}

{
	my $t0 = time;
	($ret, $out, $err) = $node->psql('postgres',
		"SET statement_timeout = '1s'; SELECT * FROM pitr_restore.scan_archive('pgbackrest:stanza=hang config=$hang')");
	my $took = time - $t0;
	like($err, qr/canceling statement due to statement timeout/, 'statement_timeout ends a hanging pgbackrest');
	ok($took < 3, sprintf('within a second of the timeout (%.2f s in all)', $took));
	ok(!pgbackrest_running(), 'and the program is gone');
}
{
	my ($in, $bout, $berr) = ('', '', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr('postgres') . ' application_name=hangtest',
		  '-c', "SELECT * FROM pitr_restore.scan_archive('pgbackrest:stanza=hang config=$hang')" ],
		'<', \$in, '>', \$bout, '2>', \$berr);
	my $waited = 0;
	until (pgbackrest_running() || $waited > 300)
	{
		usleep(100_000);
		$waited++;
	}
	ok(pgbackrest_running(), 'pgbackrest is running and hanging');
	usleep(500_000);
	my $t0 = time;
	sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'hangtest'");
	$h->finish;
	my $took = time - $t0;
	like($berr, qr/canceling statement due to user request/, 'a cancel ends the call');
	ok($took < 1.5, sprintf('within a second (%.2f s)', $took));
	ok(!pgbackrest_running(), 'and kills the program');
}
close $silent;

done_testing();
