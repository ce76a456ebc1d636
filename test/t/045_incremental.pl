# Incremental backups (PostgreSQL 17+): a full backup, an incremental one
# on top of it (tar, gzip-compressed) and another on top of that (plain),
# with traffic between them, some of it in blocks that only the incremental
# backups carry.  backups() lists each with the backup it builds on and its
# chain; targets after each resolve to the newest consistent backup; the
# restore prepare_restore builds from each (pg_combinebackup for the
# chains) stops exactly at the predicted point with the right rows.  A
# damaged link, and then the full backup removed, make the chain refused
# with the link named, and nothing is left behind.
use strict;
use warnings;
use File::Copy qw(move);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my $probe = PostgreSQL::Test::Cluster->new('version_probe');
if ($probe->pg_version < 17)
{
	plan skip_all => 'incremental backups need PostgreSQL 17 or later';
}

my ($primary, $archive) = new_primary(name => 'incr');
my $bkdir = File::Spec->rel2abs($primary->backup_dir);
# WAL summaries from before the full backup on: on from the start.
$primary->append_conf('postgresql.conf', "summarize_wal = on\n");
$primary->restart;
$primary->safe_psql('postgres', q{
CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL);
INSERT INTO big SELECT g, 0, repeat('x', 200) FROM generate_series(1, 5000) g;
});

sub big_state
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		'SELECT count(*) || \':\' || sum(v) FROM big');
}

# pg_basebackup --incremental waits for the WAL summaries it needs.
sub backup_incremental
{
	my ($name, $prior, @opts) = @_;
	$primary->backup($name,
		backup_options => ["--incremental=$bkdir/$prior/backup_manifest", @opts]);
}

workload($primary, 'a', 20);
my $state0 = big_state($primary);
$primary->backup('full');
workload($primary, 'b', 20);
# blocks only the first incremental backup carries
$primary->safe_psql('postgres', 'UPDATE big SET v = 1 WHERE id <= 1000');
my $state1 = big_state($primary);
backup_incremental('incr1', 'full', '-Ft', '--compress=client-gzip');
workload($primary, 'c', 20);
# blocks only the second one carries, and a table born between the two
$primary->safe_psql('postgres', q{
UPDATE big SET v = 2 WHERE id > 4000;
CREATE TABLE late AS SELECT g AS id FROM generate_series(1, 100) g;
});
my $state2 = big_state($primary);
backup_incremental('incr2', 'incr1');
workload($primary, 'd', 20);
wait_archived($primary);

# backups(): each with the backup it builds on and its chain.
my %bk;
foreach my $row (split /\n/, $primary->safe_psql('postgres', q{
	SELECT regexp_replace(location, '^.*/', ''), format,
		   coalesce(regexp_replace(incremental_from, '^.*/', ''), '-'),
		   coalesce(array_to_string(ARRAY(SELECT regexp_replace(c, '^.*/', '')
										   FROM unnest(chain) c), ','), '-'),
		   coalesce(problem, '-'), start_lsn, coalesce(incremental_from_lsn::text, '-')
	  FROM pitr_restore.backups()}))
{
	my ($name, @f) = split /\|/, $row;
	$bk{$name} = \@f;
}
is_deeply([ @{ $bk{full} }[ 0 .. 3 ] ], [ 'plain', '-', 'full', '-' ],
	'backups(): the full backup is its own chain');
is_deeply([ @{ $bk{incr1} }[ 0 .. 3 ] ], [ 'tar.gz', 'full', 'full,incr1', '-' ],
	'backups(): incr1 (tar.gz) builds on the full backup');
is_deeply([ @{ $bk{incr2} }[ 0 .. 3 ] ], [ 'plain', 'incr1', 'full,incr1,incr2', '-' ],
	'backups(): incr2 builds on incr1, its chain oldest first');
is($bk{incr1}[5], $bk{full}[4], "incr1's INCREMENTAL FROM LSN is the full backup's start");
is($bk{incr2}[5], $bk{incr1}[4], "incr2's INCREMENTAL FROM LSN is incr1's start");

# recovery_windows opens windows from the incremental backups too.
my $windowed = $primary->safe_psql('postgres',
	"SELECT array_to_string(ARRAY(SELECT DISTINCT unnest(backups) ORDER BY 1), ',') FROM pitr_restore.recovery_windows()");
is($windowed, 'full,incr1,incr2', 'recovery_windows counts the full and both incremental backups');

# Targets after each backup resolve to the newest consistent one.
my %target = (full => 'b10', incr1 => 'c10', incr2 => 'd10');
my %lost   = (full => 'b11', incr1 => 'c11', incr2 => 'd11');
my %state  = (full => $state0, incr1 => $state1, incr2 => $state2);
foreach my $name (qw(full incr1 incr2))
{
	my $xid = xid_of($primary, $target{$name});
	my $res = resolve($primary, "target_xid => '$xid'");
	is($res->{reachable}, 't', "a target after $name is reachable");
	like($res->{location}, qr{/\Q$name\E$}, "and $name, the newest consistent backup, is chosen");
}

# prepare_restore from each: started, it stops exactly at the predicted
# point, with the rows and the blocks of its own backup.
my $n = 0;
sub check_restore
{
	my ($name, $args) = @_;
	my $node = PostgreSQL::Test::Cluster->new('incr_restored' . ++$n);
	my $dir = File::Spec->rel2abs($node->data_dir);
	my $row = $primary->safe_psql('postgres', qq{
		SELECT backup_location, end_lsn, last_xid, next_xid, files > 0
		  FROM pitr_restore.prepare_restore('$dir', $args)});
	my ($loc, $end_lsn, $last_xid, $next_xid, $wrote) = split /\|/, $row;
	like($loc, qr{/\Q$name\E$}, "$name: prepare_restore builds from $name");
	is($wrote, 't', "$name: files reported");
	ok(!-e "$dir/backup_manifest" && -e "$dir/backup_label",
		"$name: a data directory, not a backup");
	my $label = slurp_file("$dir/backup_label");
	unlike($label, qr/INCREMENTAL/, "$name: its backup_label is a full backup's");

	start_restored($node, $name, "archive_mode = off\n");
	check_stop($node, $name, $end_lsn, $last_xid, $next_xid);
	is(big_state($node), $state{$name}, "$name: the blocks the backup carries are there");
	$node->stop('immediate');
	return $node;
}

foreach my $name (qw(full incr1 incr2))
{
	my $xid = xid_of($primary, $target{$name});
	check_restore($name, "target_xid => '$xid'");
}
my $node = PostgreSQL::Test::Cluster->new('incr_late');
{
	my $dir = File::Spec->rel2abs($node->data_dir);
	my $xid = xid_of($primary, 'd20');
	$primary->safe_psql('postgres',
		"SELECT pitr_restore.prepare_restore('$dir', target_xid => '$xid')");
	start_restored($node, 'd20', "archive_mode = off\n");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM late'), '100',
		'a table created between the incremental backups is restored');
	$node->stop('immediate');
}

# Nothing is left beside a refused restore.
sub nothing_left
{
	my ($parent, $what) = @_;
	opendir(my $dh, $parent) or die $!;
	my @left = grep { !/^\.\.?$/ } readdir($dh);
	closedir($dh);
	is(scalar(@left), 0, "$what: nothing is left behind");
}

# Running pg_combinebackup needs pg_execute_server_program.
my $parent = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir('refused'));
my $xid_d = xid_of($primary, 'd10');
$primary->safe_psql('postgres',
	'CREATE ROLE builder IN ROLE pg_read_server_files, pg_write_server_files');
my ($ret, $out, $err) = $primary->psql('postgres', qq{
	SET ROLE builder;
	SELECT * FROM pitr_restore.prepare_restore('$parent/restore', target_xid => '$xid_d')});
like($err, qr/permission denied to restore an incremental backup/,
	'restoring an incremental backup without pg_execute_server_program is refused');
nothing_left($parent, 'no privilege');

# A damaged link: a file of the full backup no longer matches its manifest.
my $relpath = $primary->safe_psql('postgres', "SELECT pg_relation_filepath('big')");
{
	open my $fh, '>>', "$bkdir/full/$relpath" or die $!;
	print $fh "\0" x 8192;
	close $fh;
}
($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT * FROM pitr_restore.prepare_restore('$parent/restore', target_xid => '$xid_d')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a chain with a damaged link is refused');
like($err, qr{\Q$relpath\E.*backup_manifest}s, 'the damaged file is named');
like($err, qr{verifying backup "[^"]*/full" of the incremental chain},
	'and so is the link it belongs to');
nothing_left($parent, 'damaged link');

# The full backup removed: the chain is broken.
my $aside = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir('aside'));
move("$bkdir/full", "$aside/full") or die "could not move the full backup: $!";
my $full_start = $bk{full}[4];

# The index has not seen it yet (the archive is unchanged, so it is not
# refreshed): the resolver still picks incr2, and the build finds the
# chain again and refuses it.
($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT * FROM pitr_restore.prepare_restore('$parent/restore', target_xid => '$xid_d')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr{cannot restore incremental backup "[^"]*/incr2"},
	'a stale index: the build refuses the broken chain');
like($err, qr{DETAIL:.*incr1.*started at \Q$full_start\E on timeline 1, is not in the backup directory}s,
	'naming the missing link');
nothing_left($parent, 'stale index');

$primary->safe_psql('postgres', 'SELECT pitr_restore.scan_archive()');
my $problem = $primary->safe_psql('postgres',
	"SELECT problem FROM pitr_restore.backups() WHERE location LIKE '%/incr1'");
like($problem, qr{its chain is broken: the backup it builds on, started at \Q$full_start\E on timeline 1, is not in the backup directory},
	'backups(): incr1 is unusable, the backup it lacks named by its start');
like($problem, qr{names it}, 'and by the label its backup history file gives');
like($primary->safe_psql('postgres',
		"SELECT problem FROM pitr_restore.backups() WHERE location LIKE '%/incr2'"),
	qr{the backup it builds on, "[^"]*/incr1", cannot be used}, 'incr2 is unusable too, through incr1');

is($primary->safe_psql('postgres',
		'SELECT count(*) FROM pitr_restore.recovery_windows()'),
	'0', 'recovery_windows: no window is left without the full backup');

my $res = resolve($primary, "target_xid => '$xid_d'");
is($res->{reachable}, 'f', 'a target after incr2 is no longer reachable');
like($res->{reason}, qr{incremental backup "[^"]*" in \S+/incr2 cannot be used}, 'the reason names the chain');
like($res->{reason}, qr{started at \Q$full_start\E}, 'and the missing link');
$res = resolve($primary, "target_xid => '$xid_d', backup_label => 'incr2'");
like($res->{reason}, qr{incr2 cannot be used: .*incr1}, 'pinned to incr2: the broken link named');

($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT * FROM pitr_restore.prepare_restore('$parent/restore', target_xid => '$xid_d')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/restore target is not reachable/, 'prepare_restore refuses the broken chain');
like($err, qr{DETAIL:.*started at \Q$full_start\E}s, 'naming the missing link');
nothing_left($parent, 'missing full backup');

# Built directly (as if the backup went between resolution and building),
# the chain is found again and refused.
($ret, $out, $err) = $primary->psql('postgres', qq{
	SELECT * FROM pitr_restore.materialise_backup('$bkdir/incr2', 'plain',
		'$parent/restore', '', 'test')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr{cannot restore incremental backup "[^"]*/incr2"}, 'building from incr2 is refused');
like($err, qr{DETAIL:.*incr1.*cannot be used}s, 'with the link it lacks');
nothing_left($parent, 'materialise_backup');

# check_archive warns.
like($primary->safe_psql('postgres', q{
	SELECT string_agg(problem || ': ' || detail, E'\n') FROM pitr_restore.check_archive()}),
	qr{backup_unusable: Base backup "[^"]*" in \S+/incr1 cannot be used: its chain is broken},
	'check_archive warns about the broken chain');

done_testing();
