# pgBackRest's own rules for its repository: a segment stored twice is what
# archive-get refuses ("duplicates found for WAL segment"), so it is never
# certified; an incremental backup whose files are gone is not chosen, the
# intact full backup is, and a real restore through prepare_restore works;
# the same in a repository read through the pgbackrest binary (encrypted).
use strict;
use warnings;
use lib 'test/lib';
use File::Copy;
use File::Path qw(rmtree);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PitrTest;
use ToolRepo;

my $unsupported = tools_unsupported();
plan skip_all => $unsupported if $unsupported;

my ($node, $bed) = tool_primary('pgbr_rel', conf => "track_commit_timestamp = on\n",
	pgbackrest => { encrypted_repo2 => 1 });
my $pb = $bed->{pb};
my $full = pgbackrest_backup($pb, 'full');
workload($node, 'a', 50);
my $incr = pgbackrest_backup($pb, 'incr');
workload($node, 'b', 50);
wait_archived($node);
my $pgbr = $pb->{archive};
my $xid = xid_of($node, 'b40');
sub sql { return $node->safe_psql('postgres', $_[0]); }

my $label = sql("SELECT backup_label FROM pitr_restore.resolve_target(target_xid => '$xid', archive_dir => '$pgbr')");
is($label, $incr, 'with every file there, the newest (incremental) backup is chosen');

# The incremental backup's files are gone, its manifest left.
rmtree("$pb->{backup}/$incr/pg_data");
my $row = sql("SELECT reachable, backup_label FROM pitr_restore.resolve_target(target_xid => '$xid', archive_dir => '$pgbr')");
is($row, "t|$full", 'an incremental backup without its pg_data is not chosen: the full one is');
like(sql("SELECT problem FROM pitr_restore.backups('$pgbr') WHERE label = '$incr'"),
	qr/pg_data/, 'backups() says what is missing');
{
	my $n = PostgreSQL::Test::Cluster->new('pgbr_rel_restored');
	my $dir = $n->data_dir;
	my $r = sql("SELECT backup_label FROM pitr_restore.prepare_restore('$dir',
			target_xid => '$xid', archive_dir => '$pgbr', archive_mode => 'off')");
	is($r, $full, 'prepare_restore restores the full backup');
	tool_node_configure($n);
	tool_node_paused($n);
	is($n->safe_psql('postgres', "SELECT count(*) FROM ledger WHERE tag = 'b40'"), '1',
		'and recovery reaches the transaction');
	$n->stop;
}

# A second copy of a segment on the path, under another hash.
my @segs = sort grep { m{/[0-9A-F]{24}-[0-9a-f]{40}} } glob("$pgbr/*/*/*");
my $target_seg = sql("SELECT s.file_name FROM pitr_restore.segments('$pgbr') s
	WHERE s.status = 'ok' ORDER BY s.file_name DESC OFFSET 1 LIMIT 1");
my ($orig) = grep { m{/\Q$target_seg\E-} } @segs;
ok(defined $orig, "the stored copy of $target_seg");
(my $second = $orig) =~ s/-([0-9a-f]{40})/-0000000000000000000000000000000000000000/;
copy($segs[0], $second) or die;
{
	my $tmp = PostgreSQL::Test::Utils::tempdir('get');
	my $rc = system('pgbackrest', "--config=$pb->{conf}", "--stanza=$pb->{stanza}",
		'archive-get', $target_seg, "$tmp/x");
	isnt($rc, 0, 'pgbackrest archive-get refuses the segment stored twice');
}
$row = sql("SELECT reachable FROM pitr_restore.resolve_target(target_xid => '$xid', archive_dir => '$pgbr')");
is($row, 'f', 'a segment stored twice on the path: the xid is not reachable');
like(sql("SELECT status || ': ' || detail FROM pitr_restore.segments('$pgbr') WHERE file_name = '$target_seg'"),
	qr/^duplicate: .*archive-get refuses it/, 'the segment is "duplicate", saying why');
like(sql("SELECT string_agg(problem, ',') FROM pitr_restore.check_archive('$pgbr')"),
	qr/duplicate_file/, 'check_archive() reports it');
unlink($second) or die;
$row = sql("SELECT reachable FROM pitr_restore.resolve_target(target_xid => '$xid', archive_dir => '$pgbr')");
is($row, 't', 'the second copy removed: reachable again');

# With the full backup gone too, the reason speaks of the repository.
rmtree("$pb->{backup}/$full");
$row = sql("SELECT reachable::text || '|' || coalesce(reason, '') FROM pitr_restore.resolve_target(target_xid => '$xid', archive_dir => '$pgbr')");
like($row, qr/^false\|no usable base backup: the repository of .* lists 2, none usable \(.*\Q$full\E: /,
	'no usable backup: the reason lists what the repository holds and why none serves');
unlike($row, qr/pitr_restore\.backup_dir/, 'and does not speak of pitr_restore.backup_dir');

# A repository read through the binary (encrypted: repo-ls, repo-get): the
# same check, made with repo-ls of the backup's directory and pg_data/global.
my $pgenc = "pgbackrest:stanza=$pb->{stanza} config=$pb->{conf} repo=2";
my $enc_full = pgbackrest_backup($pb, 'full', 2);
workload($node, 'c', 10);
my $enc_incr = pgbackrest_backup($pb, 'incr', 2);
workload($node, 'd', 10);
wait_archived($node);
my $xid_d = xid_of($node, 'd5');
$row = sql("SELECT reachable::text || '|' || backup_label FROM pitr_restore.resolve_target(target_xid => '$xid_d', archive_dir => '$pgenc')");
is($row, "true|$enc_incr", 'through the binary: with every file there, the incremental backup is chosen');
rename("$pb->{repo2}/backup/$pb->{stanza}/$enc_incr/pg_data/global",
	"$pb->{repo2}/backup/$pb->{stanza}/$enc_incr/pg_data/global.gone") or die;
# (through the binary the index looks again when the archive's listing
# changes: new WAL)
workload($node, 'e', 2);
wait_archived($node);
$row = sql("SELECT reachable::text || '|' || backup_label FROM pitr_restore.resolve_target(target_xid => '$xid_d', archive_dir => '$pgenc')");
is($row, "true|$enc_full", 'through the binary: an incremental without its pg_control is not chosen: the full one is');
like(sql("SELECT problem FROM pitr_restore.backups('$pgenc') WHERE label = '$enc_incr'"),
	qr/pg_data\/global\/pg_control" is missing/, 'backups() says what is missing');
rmtree("$pb->{repo2}/backup/$pb->{stanza}/$enc_full/pg_data");
workload($node, 'f', 2);
wait_archived($node);
$row = sql("SELECT reachable::text || '|' || coalesce(reason, '') FROM pitr_restore.resolve_target(target_xid => '$xid_d', archive_dir => '$pgenc')");
like($row, qr/^false\|no usable base backup: .*\Q$enc_full\E: [^;]*its files are not in the repository: "[^"]*\/pg_data" is missing/,
	'through the binary: the full backup without its pg_data is not chosen either, and the reason says so');

done_testing();
