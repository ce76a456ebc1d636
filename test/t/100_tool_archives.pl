# Archives written by the real tools: pgBackRest 2.45 (posix repository,
# zstd) and Barman 3.4 (local home, gzip), next to a flat copy of the same
# WAL.  pitr_restore's sources must list the same WAL files under the names
# PostgreSQL gave them, read the same bytes, and read the backups the way
# the tools themselves report them; restores done with the tools work in
# the same bed.
use strict;
use warnings;
use lib 'test/lib';
use File::Copy;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PitrTest;
use ToolRepo;

my $unsupported = tools_unsupported();
plan skip_all => $unsupported if $unsupported;

my ($node, $bed) = tool_primary('primary', pgbackrest => { encrypted_repo2 => 1 },
	flat => 1, barman => 1, conf => "track_commit_timestamp = on\n");
my ($pb, $bm, $flat) = @$bed{qw(pb bm flat)};
my $full = pgbackrest_backup($pb, 'full');
my $bid = barman_backup($bm);
workload($node, 'a', 200);
my $lsn_a = $node->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
$node->safe_psql('postgres', "SELECT pg_create_restore_point('rp1')");
workload($node, 'b', 200);
my $incr = pgbackrest_backup($pb, 'incr');
workload($node, 'c', 200);
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO ledger (tag) VALUES ('marked');
SELECT pitr_restore.mark_transaction('import m1');
COMMIT;
});
wait_archived($node);
barman_archive_wal($bm);

my $pgbr = $pb->{archive};
my $pgkw = "pgbackrest:stanza=demo config=$pb->{conf}";
my $bmdir = $bm->{dir};
my $sysid = $node->safe_psql('postgres',
	'SELECT system_identifier FROM pg_control_system()');

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub error_of
{
	my ($loc) = @_;
	my ($ok, $out, $err) = $node->psql('postgres',
		"SELECT * FROM pitr_restore._source_info('$loc')");
	return $err;
}

# ---- layouts ----------------------------------------------------------

is(sql("SELECT layout, system_identifier, archive_id, restore_command
		FROM pitr_restore._source_info('$pgbr')"),
	"pgbackrest|$sysid|15-1|pgbackrest '--config=/dev/null' '--stanza=demo' '--repo1-path=$pb->{repo}' --pg1-path=\"\$PWD\" --log-level-file=off archive-get %f \"%p\"",
	'a stanza archive directory is recognised, archive.info read');

# That restore_command, run as the server runs it (in a data directory of
# the same system), fetches a segment without any pgBackRest configuration.
{
	my $rc = sql("SELECT restore_command FROM pitr_restore._source_info('$pgbr')");
	my $seg = sql("SELECT name FROM pitr_restore._source_files('$pgbr') WHERE kind = 'segment' ORDER BY name LIMIT 1");
	my $out = PostgreSQL::Test::Utils::tempdir('fetched');
	$rc =~ s/%f/$seg/; $rc =~ s/%p/$out\/$seg/; $rc =~ s/%%/%/g;
	my $pgdata = $node->data_dir;
	system('bash', '-c', "cd '$pgdata' && $rc") == 0 or die "restore_command failed: $rc";
	is(`md5sum < '$out/$seg'`, `md5sum < '$flat/$seg'`,
		'the directory form\'s restore_command fetches the segment with pgbackrest');
}
is(sql("SELECT layout, wal_dir = '$pgbr', backup_dir = '$pb->{backup}', restore_command
		FROM pitr_restore._source_info('$pgkw')"),
	"pgbackrest|t|t|pgbackrest '--stanza=demo' '--config=$pb->{conf}' archive-get %f \"%p\"",
	'the keyword form finds the repository through pgBackRest\'s own configuration');
is(sql("SELECT layout, backup_dir, restore_command FROM pitr_restore._source_info('$bmdir', '$bm->{conf}')"),
	"barman|$bmdir/base|barman -c '$bm->{conf}' get-wal 'pg' %f > \"%p\"",
	'a Barman server directory is recognised');
is(sql("SELECT layout FROM pitr_restore._source_info('$flat')"), 'flat',
	'a flat archive is still a flat archive');

# ---- the same WAL files, the same bytes -------------------------------

my $cols = 'name, kind, timeline, log, seg';
sub files
{
	my ($loc, $where) = @_;
	$where //= 'true';
	return sql("SELECT $cols FROM pitr_restore._source_files('$loc')
		WHERE $where ORDER BY name");
}
sub digests
{
	my ($loc, $where) = @_;
	$where //= 'true';
	return sql("SELECT string_agg(name || ' ' || md5(pitr_restore._source_read('$loc', name)), E'\\n' ORDER BY name)
		FROM pitr_restore._source_files('$loc') WHERE $where");
}

my $flat_files = files($flat);
ok($flat_files =~ tr/\n// >= 8, 'the flat archive has files');
is(files($pgbr), $flat_files,
	'pgBackRest archive lists the same WAL files as the flat copy');
is(files($pgkw), $flat_files, 'so does the keyword form');
is(sql("SELECT count(*) FROM pitr_restore._source_files('$pgbr')
	WHERE kind = 'segment' AND (compression <> 'zstd' OR sha1 !~ '^[0-9a-f]{40}\$')"),
	'0', 'pgBackRest segments are zstd with a SHA-1 in the name');
is(sql("SELECT count(*) FROM pitr_restore._source_files('$pgbr')
	WHERE kind = 'segment' AND page_system_identifier IS DISTINCT FROM $sysid"),
	'0', 'every segment carries the system identifier archive.info states');
is(digests($pgbr, "kind = 'segment'"), digests($flat, "kind = 'segment'"),
	'pgBackRest segments decompress to the flat copy\'s bytes, SHA-1 checked');

# An encrypted repository is read through pgbackrest itself (repo-ls,
# repo-get decrypt), exactly as for S3, Azure, GCS or SFTP.
my $pgenc = "pgbackrest:stanza=demo config=$pb->{conf} repo=2";
is(sql("SELECT layout, wal_dir, system_identifier, restore_command
		FROM pitr_restore._source_info('$pgenc')"),
	"pgbackrest|archive/demo|$sysid|pgbackrest '--stanza=demo' '--config=$pb->{conf}' --repo=2 archive-get %f \"%p\"",
	'an encrypted repository is recognised through the pgbackrest binary');
is(files($pgenc), $flat_files,
	'the encrypted repository lists the same WAL files as the flat copy');
is(digests($pgenc, "kind = 'segment'"), digests($flat, "kind = 'segment'"),
	'and repo-get gives the same bytes, SHA-1 checked');
like(error_of("$pb->{repo2}/archive/demo"), qr/could not read pgBackRest archive\.info/,
	'an encrypted repository read as a directory is an error, not garbage');

# The role that checks the program rule at the end (its commit is also a
# transaction after the mark made above, which the searches below need).
sql(q{CREATE ROLE reader LOGIN IN ROLE pg_read_server_files;});

# Barman drops WAL older than its first backup.
my $bm_first = sql("SELECT min(name) FROM pitr_restore._source_files('$bmdir') WHERE kind = 'segment'");
ok($bm_first, "Barman holds segments from $bm_first");
is(files($bmdir), files($flat, "name >= '$bm_first'"),
	'Barman lists the same WAL files as the flat copy from its first backup on');
is(sql("SELECT DISTINCT compression FROM pitr_restore._source_files('$bmdir')"),
	'gzip', 'Barman compression is sniffed from the content (plain names)');
is(digests($bmdir), digests($flat, "name >= '$bm_first'"),
	'Barman files decompress to the flat copy\'s bytes');

# A file whose content does not match the SHA-1 in its name is refused.
{
	my $copy = PostgreSQL::Test::Utils::tempdir('pgbr_copy') . '/demo';
	system('cp', '-a', $pgbr, $copy) == 0 or die 'cp failed';
	my @zst = sort glob("$copy/15-1/0000000100000000/*.zst");
	copy($zst[-1], $zst[-2]) or die "copy: $!";
	my ($seg) = $zst[-2] =~ m{/([0-9A-F]{24})-};
	my ($ok, $out, $err) = $node->psql('postgres',
		"SELECT md5(pitr_restore._source_read('$copy', '$seg'))");
	like($err, qr/SHA-1 [0-9a-f]{40} but pgBackRest recorded/,
		'a pgBackRest file whose content does not match its SHA-1 is an error');
}

# ---- backups, as the tools report them --------------------------------

my $info = [ pgbackrest_backups($pb, 1) ];
my $expect = join("\n", map {
	join('|', $_->{label}, 'pgbackrest', $_->{type}, $_->{prior} // '',
		$_->{lsn}{start}, $_->{lsn}{stop}, $_->{archive}{start},
		$_->{archive}{stop}, $_->{timestamp}{start}, $_->{timestamp}{stop},
		$_->{error} ? 't' : 'f', 't', $sysid)
} @$info);
is(sql("SELECT label, format, type, coalesce(prior, ''), start_lsn, stop_lsn,
		wal_start, wal_stop, extract(epoch FROM start_time)::bigint,
		extract(epoch FROM stop_time)::bigint, error, usable, system_identifier
	  FROM pitr_restore._source_backups('$pgkw')"),
	$expect, 'pgBackRest backups agree with pgbackrest info --output=json');
like($expect, qr/\|incr\|$full\|/, 'the incremental backup depends on the full one');

# An incremental backup whose full backup is gone cannot be used.
{
	my $repo = PostgreSQL::Test::Utils::tempdir('pgbr_chain');
	make_path("$repo/archive", "$repo/backup/demo/$incr");
	system('cp', '-a', $pgbr, "$repo/archive/demo") == 0 or die;
	copy("$pb->{backup}/backup.info", "$repo/backup/demo/backup.info") or die;
	copy("$pb->{backup}/$incr/backup.manifest", "$repo/backup/demo/$incr/backup.manifest") or die;
	# its own files are there (a backup without them is not usable either)
	system('cp', '-a', "$pb->{backup}/$incr/pg_data", "$repo/backup/demo/$incr/") == 0 or die;
	my $rows = sql("SELECT label, usable, status, reason FROM pitr_restore._source_backups('$repo/archive/demo')");
	like($rows, qr/^\Q$full\E\|f\|manifest unreadable: could not open file "[^"]*\/\Q$full\E\/backup\.manifest": No such file or directory\|/m,
		'a backup listed in backup.info without its manifest is in error');
	like($rows, qr/^\Q$incr\E\|f\|ok\|backup \Q$full\E it depends on is marked as failed/m,
		'an incremental backup is usable only when its whole chain is present');
}

# A backup pgBackRest marks in error makes its dependants unusable too.
{
	my $repo = PostgreSQL::Test::Utils::tempdir('pgbr_error');
	make_path("$repo/archive", "$repo/backup/demo/$incr", "$repo/backup/demo/$full");
	system('cp', '-a', $pgbr, "$repo/archive/demo") == 0 or die;
	for my $b ($full, $incr)
	{
		copy("$pb->{backup}/$b/backup.manifest", "$repo/backup/demo/$b/backup.manifest") or die;
		system('cp', '-a', "$pb->{backup}/$b/pg_data", "$repo/backup/demo/$b/") == 0 or die;
	}
	open my $in, '<', "$pb->{backup}/backup.info" or die;
	open my $out, '>', "$repo/backup/demo/backup.info" or die;
	while (<$in>)
	{
		s/"backup-error":false/"backup-error":true/ if /^\Q$full\E=/;
		print $out $_;
	}
	close $out;
	is(sql("SELECT label, error, usable, reason FROM pitr_restore._source_backups('$repo/archive/demo')"),
		"$full|t|f|backup $full is marked as failed (error)\n"
		. "$incr|f|f|backup $full it depends on is marked as failed (error)",
		'a failed full backup makes its incremental unusable');
}

# Backups of the encrypted repository, through repo-get of backup.info and
# the manifests.
{
	my $enc_full = pgbackrest_backup($pb, 'full', 2);
	my @b = pgbackrest_backups($pb, 2);
	is(sql("SELECT label, type, start_lsn, stop_lsn, usable FROM pitr_restore._source_backups('$pgenc')"),
		join("\n", map { join('|', $_->{label}, $_->{type}, $_->{lsn}{start}, $_->{lsn}{stop}, 't') } @b),
		'encrypted repository backups agree with pgbackrest info');
}

my $show = barman_show_backup($bm, $bid);
note explain $show;
is(sql("SELECT label, format, type, timeline, wal_start, wal_stop, status, usable, system_identifier
	  FROM pitr_restore._source_backups('$bmdir')"),
	join('|', $bid, 'barman', 'full', $show->{timeline}, $show->{'begin wal'},
		$show->{'end wal'}, $show->{status}, 't', $sysid),
	'Barman backups agree with barman show-backup');
like($show->{'begin lsn'} // '', qr{^[0-9A-F]+/[0-9A-F]+$}, 'show-backup gives a begin LSN');
is(sql("SELECT start_lsn FROM pitr_restore._source_backups('$bmdir')"),
	$show->{'begin lsn'}, 'Barman backup begin LSN agrees');

# ---- restores done with the tools -------------------------------------

my $rb = barman_recover($bm, $bid, 'barman_restored',
	target_name => 'rp1', target_action => 'promote');
tool_node_start($rb);
$rb->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'barman-restored node did not promote';
is($rb->safe_psql('postgres', "SELECT count(*) FILTER (WHERE tag LIKE 'a%'), count(*) FILTER (WHERE tag LIKE 'b%') FROM ledger"),
	'200|0', 'barman recover --target-name stops at the restore point');
$rb->stop;

my $restored = pgbackrest_restore($pb, 'pgbr_restored', set => $full,
	type => 'name', target => 'rp1', target_action => 'promote');
my $rcmd = join(' && ', "cp %p $flat/%f",
	pgbackrest_archive_command($pb, $restored->data_dir));
tool_node_start($restored, $rcmd);
$restored->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'pgBackRest-restored node did not promote';
is($restored->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE tag LIKE 'a%'), count(*) FILTER (WHERE tag LIKE 'b%'), timeline_id FROM ledger, pg_control_checkpoint() GROUP BY timeline_id"),
	'200|0|2', 'pgbackrest restore --type=name stops at the restore point and creates timeline 2');
workload($restored, 'd', 200);
wait_archived($restored);

$flat_files = files($flat);
like($flat_files, qr/00000002\.history\|history\|2/, 'timeline 2 history is archived');
is(files($pgbr), $flat_files,
	'after the branch, pgBackRest still lists the same files as the flat copy');
is(digests($pgbr, "kind IN ('segment', 'history')"),
	digests($flat, "kind IN ('segment', 'history')"),
	'and the same bytes, on both timelines');

# ---- the index over the tools' archives ------------------------------

# segments(), restore_points() and timelines() read the tools' archives
# and say what they say of the flat copy (how each file is stored aside).
my $seg_cols = 'file_name, timeline, start_lsn, end_lsn, kind, status, detail,
	first_record_lsn, next_record_lsn, records, commits, aborts,
	first_commit_time, last_commit_time, min_xid, max_xid, restore_points,
	has_switch, wal_level_minimal';
sub index_of
{
	my ($loc, $where) = @_;
	$where //= 'true';
	return join("\n---\n",
		sql("SELECT $seg_cols FROM pitr_restore.segments('$loc') WHERE $where"),
		sql("SELECT * FROM pitr_restore.restore_points('$loc') WHERE $where"),
		sql("SELECT * FROM pitr_restore.timelines('$loc')"));
}
my $flat_index = index_of($flat);
like($flat_index, qr/^rp1\|/m, 'the flat archive\'s index has the restore point');
like($flat_index, qr/\n2\|1\|/, 'and timeline 2');
is(index_of($pgbr), $flat_index,
	'a pgBackRest stanza archive indexes as its flat copy: segments, restore points, timelines');
is(index_of($pgkw), $flat_index, 'so does its keyword form');
is(index_of($pgenc), $flat_index,
	'so does the encrypted repository, read through pgbackrest');
is(sql("SELECT count(*) FROM pitr_restore.segments('$pgbr') WHERE compression = 'zstd'"),
	sql("SELECT count(*) FROM pitr_restore.segments('$flat')"),
	'segments() tells how pgBackRest stored each file');
is(sql("SELECT count(*) FROM pitr_restore.archive WHERE directory = '$pgbr'"), 1,
	'the stanza archive is indexed by its path');
is(sql("SELECT directory FROM pitr_restore.archive WHERE directory LIKE 'pgbackrest:%' ORDER BY 1"),
	"pgbackrest:stanza=demo config=$pb->{conf}\npgbackrest:stanza=demo config=$pb->{conf} repo=2",
	'the keyword form is indexed under its canonical spelling');
is(sql("SELECT segments_scanned FROM pitr_restore.scan_archive('$pgbr')"), 0,
	'a second scan of an unchanged stanza archive reads nothing');
# Barman keeps WAL from its first backup on: the same index from there.
is(sql("SELECT $seg_cols FROM pitr_restore.segments('$bmdir') WHERE file_name > '$bm_first'"),
	sql("SELECT $seg_cols FROM pitr_restore.segments('$flat') WHERE file_name > '$bm_first' AND timeline = 1"),
	'a Barman server directory indexes as the flat copy of the WAL it holds');

# ---- backups from the repositories, resolution over them --------------

is(sql("SELECT label, format, problem IS NULL FROM pitr_restore.backups('$pgbr') WHERE format IS NOT NULL"),
	"$full|pgbackrest|t\n$incr|pgbackrest|t",
	'backups() lists the full and incremental backups from pgBackRest\'s repository, usable');
is(sql("SELECT label, format FROM pitr_restore.backups('$bmdir') WHERE format IS NOT NULL"),
	"$bid|barman", 'and the Barman backup from the Barman server directory');
is(sql("SELECT count(*) FROM pitr_restore.backups('$flat') WHERE format IN ('pgbackrest', 'barman')"),
	0, 'a repository\'s backups belong to its own archive only');

# Resolve over the pgBackRest archive, restore the chosen backup with
# pgbackrest itself (no target of its own), add the resolver's settings
# (restore_command: pgbackrest archive-get), and look where it stopped.
my $n_pgbr = 0;
sub resolve_and_recover
{
	my ($args, $what) = @_;
	my $res = resolve($node, "$args, archive_dir => '$pgbr'");
	is($res->{reachable}, 't', "$what: reachable over the pgBackRest archive")
	  or diag($res->{reason});
	like($res->{conf}, qr/^restore_command = '.*pgbackrest.*archive-get/m,
		"$what: restore_command fetches with pgbackrest");
	my $label = sql("SELECT backup_label FROM pitr_restore.resolve_target($args, archive_dir => '$pgbr')");
	my $n = pgbackrest_restore($pb, 'pgbr_resolved' . ++$n_pgbr, set => $label,
		type => 'none');
	$n->append_conf('postgresql.auto.conf', $res->{conf});
	tool_node_paused($n);
	is($n->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE xid = '$res->{last_xid}'") .
		'|' . $n->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE xid = '$res->{next_xid}'"),
		'1|0', "$what: restored from $label, last_xid $res->{last_xid} is kept and next_xid $res->{next_xid} is not");
	$n->stop;

	# The same with the tool's own restore command from the resolution.
	my $tool = sql("SELECT tool_command FROM pitr_restore.resolve_target($args, archive_dir => '$pgbr')");
	like($tool, qr/^pgbackrest .* restore '--set=\Q$label\E' --type=/, "$what: tool_command restores $label with pgbackrest");
	my $t = tool_empty_node('pgbr_tool' . $n_pgbr);
	my $dir = $t->data_dir;
	local $ENV{PGDATA} = $dir;
	system('bash', '-c', $tool) == 0 or die "tool_command failed: $tool";
	tool_node_configure($t);
	tool_node_paused($t);
	is($t->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE xid = '$res->{last_xid}'") .
		'|' . $t->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE xid = '$res->{next_xid}'") .
		'|' . $t->safe_psql('postgres', "SELECT pg_last_wal_replay_lsn() >= '$res->{stop_lsn}'"),
		'1|0|t', "$what: running tool_command stops at the same point");
	is($t->safe_psql('postgres', 'SHOW recovery_prefetch'), 'off',
		"$what: tool_command's restore reads no WAL past the stop (recovery_prefetch = off)");
	$t->stop;
	return $res;
}

my $t_c100_tl1 = commit_time_of($node, 'c100');
resolve_and_recover("target_time => '$t_c100_tl1', target_timeline => 1",
	'a time on the abandoned timeline 1');
resolve_and_recover("target_name => 'rp1'", 'a restore point');
resolve_and_recover("target_lsn => '$lsn_a'", 'an LSN');
resolve_and_recover("target_xid => '" . xid_of($restored, 'd100') . "'",
	'an xid on timeline 2');

# The transaction mark made on timeline 1 after the branch: the resolver
# finds the timeline that reaches it.
my $res_m = resolve_and_recover("target_mark => 'import m1'",
	'a transaction mark');
is($res_m->{last_xid}, xid_of($node, 'marked'), 'the marked transaction is the last one kept');

# prepare_restore from the full + incremental chain: pgbackrest restore
# into its building directory, then the recovery settings as for any
# backup.
{
	my $n = PostgreSQL::Test::Cluster->new('pgbr_prepared');
	my $dir = $n->data_dir;
	my $t = commit_time_of($node, 'c150');
	my $row = sql("SELECT backup_label, last_xid, next_xid, files > 0
		FROM pitr_restore.prepare_restore('$dir', target_time => '$t',
			target_timeline => 1, archive_dir => '$pgbr', archive_mode => 'off')");
	my ($label, $last, $next, $files) = split /\|/, $row;
	is("$label|$files", "$incr|t", 'prepare_restore restores the incremental backup with pgbackrest');
	ok(!-e "$dir/postmaster.pid" && -e "$dir/recovery.signal" && !-e "$dir/pgbackrest",
		'the restore has recovery.signal and no postmaster.pid');
	tool_node_configure($n);
	tool_node_paused($n);
	is($n->safe_psql('postgres', "SELECT count(*) FILTER (WHERE xid = '$last'), count(*) FILTER (WHERE xid = '$next'), count(*) FILTER (WHERE tag LIKE 'c%') FROM ledger"),
		'1|0|150', 'and it stops where the resolver said: c150 kept, the next transaction not');
	$n->stop;

	sql("CREATE ROLE builder LOGIN; GRANT pg_read_server_files, pg_write_server_files TO builder;");
	my ($ok, $out, $err) = $node->psql('postgres',
		"SET ROLE builder; SELECT * FROM pitr_restore.prepare_restore('${dir}_2', target_time => '$t', target_timeline => 1, archive_dir => '$pgbr')");
	like($err, qr/permission denied to restore a pgBackRest backup/,
		'restoring with pgbackrest needs pg_execute_server_program besides reading and writing server files');
	ok(!-e "${dir}_2", 'and nothing was built');
}

# prepare_restore from a Barman backup: base/<id>/data as a plain backup,
# WAL fetched with barman get-wal.
{
	my $n = PostgreSQL::Test::Cluster->new('barman_prepared');
	my $dir = $n->data_dir;
	my $x = xid_of($node, 'a120');
	my $row = sql("SET pitr_restore.barman_config = '$bm->{conf}';
		SELECT backup_label, backup_format, last_xid, next_xid
		FROM pitr_restore.prepare_restore('$dir', target_xid => '$x',
			archive_dir => '$bmdir', archive_mode => 'off')");
	my ($label, $format, $last, $next) = split /\|/, $row;
	is("$label|$format|$last", "$bid|barman|$x", 'prepare_restore restores the Barman backup up to the xid');
	like(sql("SET pitr_restore.barman_config = '$bm->{conf}';
		SELECT tool_command FROM pitr_restore.resolve_target(target_xid => '$x', archive_dir => '$bmdir')"),
		qr/^barman -c '\Q$bm->{conf}\E' recover --target-xid '$x' --target-tli 1 --target-action pause 'pg' '\Q$bid\E' "\$PGDATA" && echo "recovery_prefetch = 'off'" >> "\$PGDATA"\/postgresql.auto.conf$/,
		'tool_command for a Barman archive is barman recover into $PGDATA');
	tool_node_configure($n);
	tool_node_paused($n);
	is($n->safe_psql('postgres', "SELECT count(*) FILTER (WHERE xid = '$last'), count(*) FILTER (WHERE xid = '$next'), count(*) FILTER (WHERE tag LIKE 'a%') FROM ledger"),
		'1|0|120', 'and it stops at the xid, fetching WAL with barman get-wal');
	$n->stop;
}

# ---- the tools' own restore commands ---------------------------------

# Restore with the command pitr_restore builds for the tool, start the
# cluster, and leave it paused at the target.
sub restore_with
{
	my ($name, $loc, $label, $kind, $target, $tli, $barman_conf) = @_;
	my $n = tool_empty_node($name);
	my $dir = $n->data_dir;
	my $conf = defined $barman_conf ? "'$barman_conf'" : 'NULL';
	my $cmd = sql("SELECT pitr_restore._source_tool_command('$loc', '$label',
		'$kind', '$target', true, $tli, 'pause', '$dir', $conf)");
	note $cmd;
	system('bash', '-c', $cmd) == 0 or die "tool command failed: $cmd";
	tool_node_configure($n);
	tool_node_paused($n);
	is($n->safe_psql('postgres', 'SHOW recovery_prefetch'), 'off',
		"$name: the tool's restore reads no WAL past the stop (recovery_prefetch = off)");
	return $n;
}

my $byl = restore_with('pgbr_lsn', $pgkw, $full, 'lsn', $lsn_a, 1);
is($byl->safe_psql('postgres', "SELECT count(*) FILTER (WHERE tag LIKE 'a%'), count(*) FILTER (WHERE tag LIKE 'b%'), pg_last_wal_replay_lsn() >= '$lsn_a' FROM ledger"),
	'200|0|t', 'pgbackrest restore --type=lsn built by pitr_restore stops at the LSN');
$byl->stop;

# A time on the abandoned timeline 1: only a numeric timeline reaches it,
# PostgreSQL's default (latest) would follow timeline 2.
my $t_c100 = commit_time_of($node, 'c100');
my $byt = restore_with('pgbr_time', $pgkw, $incr, 'time', $t_c100, 1);
is($byt->safe_psql('postgres', "SELECT count(*) FILTER (WHERE tag LIKE 'c%'), count(*) FILTER (WHERE tag LIKE 'd%') FROM ledger"),
	'100|0', 'pgbackrest restore --type=time --target-timeline=1 from the incremental reaches a time on the abandoned branch');
$byt->stop;

my $x_a100 = xid_of($node, 'a100');
my $byx = restore_with('barman_xid', $bmdir, $bid, 'xid', $x_a100, 1, $bm->{conf});
is($byx->safe_psql('postgres', "SELECT count(*) FILTER (WHERE tag LIKE 'a%'), max(xid) FROM ledger"),
	"100|$x_a100", 'barman recover --target-xid built by pitr_restore keeps exactly that transaction');
$byx->stop;

# Barman's get-wal as restore_command: a plain copy of the Barman backup
# recovered by PostgreSQL itself with pitr_restore's settings.
{
	my $n = barman_recover($bm, $bid, 'barman_getwal');
	my $rc = sql("SELECT restore_command FROM pitr_restore._source_info('$bmdir', '$bm->{conf}')");
	$rc =~ s/'/''/g;
	my $x = xid_of($node, 'a150');
	$n->append_conf('postgresql.auto.conf', qq{
restore_command = '$rc'
recovery_target_xid = '$x'
recovery_target_timeline = 1
recovery_target_action = pause
});
	open my $sig, '>', $n->data_dir . '/recovery.signal' or die;
	close $sig;
	tool_node_paused($n);
	is($n->safe_psql('postgres', "SELECT count(*) FILTER (WHERE tag LIKE 'a%'), max(xid) FROM ledger"),
		"150|$x", 'barman get-wal as restore_command replays to the target');
	$n->stop;
}

is(sql("SELECT pitr_restore._source_tool_command('$flat', 'x', 'lsn', '0/1', true, 1, 'pause', '/tmp/x') IS NULL"),
	't', 'a flat archive has no tool command');

# ---- what is not an archive -------------------------------------------

like(error_of("$pgbr/15-1/0000000100000000"),
	qr/holds \d+ files named like pgBackRest archive files but no archive\.info/,
	'a pgBackRest hash directory is an error saying what it holds');
like(error_of("$pgbr/15-1"), qr/directories named like pgBackRest or Barman archive subdirectories/,
	'an archive id directory is an error');
like(error_of($pb->{repo}), qr/looks like a pgBackRest repository, not a stanza's archive/,
	'a repository root is an error');
my $junk = PostgreSQL::Test::Utils::tempdir('junk');
open my $fh, '>', "$junk/notes.txt" or die; print $fh "x\n"; close $fh;
like(error_of($junk), qr/holds 1 entries but no WAL archive files/,
	'a directory of other files is an error, not an empty archive');
like(error_of("pgbackrest:stanza=nope config=$pb->{conf}"),
	qr/stanza "nope" has no archive directory/, 'an unknown stanza is an error');
like(error_of('pgbackrest:config=/x'), qr/names no stanza/,
	'the keyword form needs a stanza');
like(error_of('pgbackrest:stanza=demo colour=red'), qr/unknown keyword "colour"/,
	'unknown keywords are errors');

# Running pgbackrest from the server needs pg_execute_server_program of
# the role whose code runs: scan_archive (SECURITY INVOKER, as the README's
# public functions are) checks the caller.  Last: these scans index the
# keyword forms, which the comparisons above must see unindexed.
{
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET ROLE reader; SELECT segments_total > 0 FROM pitr_restore.scan_archive('$pgenc')");
	like($err, qr/permission denied to read a pgBackRest repository through the pgbackrest program/,
		'reading through pgbackrest needs pg_execute_server_program');
	is($node->safe_psql('postgres', "SET ROLE reader; SELECT segments_total > 0 FROM pitr_restore.scan_archive('$pgkw')"),
		't', 'a local posix repository needs no such privilege');
	sql('GRANT pg_execute_server_program TO reader');
	is($node->safe_psql('postgres', "SET ROLE reader; SELECT segments_total > 0 FROM pitr_restore.scan_archive('$pgenc')"),
		't', 'with pg_execute_server_program it is read');
}

done_testing();
