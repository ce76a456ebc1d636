# Damaged and odd repository files: every bad pgBackRest or Barman file is a
# clear error or a backup listed in error, never a crash, a hang or a wrong
# "usable".
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('formats');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pitr_restore');

sub put
{
	my ($path, $text) = @_;
	(my $dir = $path) =~ s{/[^/]*$}{};
	make_path($dir);
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	# a backup is usable only with its own files: give each its pg_control
	if ($path =~ m{^(.*)/backup\.manifest$})
	{
		make_path("$1/pg_data/global");
		open my $pc, '>', "$1/pg_data/global/pg_control.zst" or die;
		close $pc;
	}
}

sub error_of
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql);
	return $rc == 0 ? "no error: $out" : $err;
}

my $good_archive_info = join("\n",
	'[backrest]', 'backrest-format=5', 'backrest-version="2.45"', '',
	'[db]', 'db-id=1', 'db-system-id=7712239434143852768', 'db-version="15"', '',
	'[db:history]', '1={"db-id":7712239434143852768,"db-version":"15"}', '');

my $root = PostgreSQL::Test::Utils::tempdir('repos');

# archive.info
my @bad_archive_info = (
	[ "garbage\n", qr/line 1: expected key=value/ ],
	[ "[db]\ndb-id=1\n", qr/key "db-system-id" is missing from section \[db\]/ ],
	[ "[db]\ndb-id=1\ndb-system-id=abc\ndb-version=\"15\"\n", qr/\[db\] db-system-id: invalid JSON value/ ],
	[ "[db]\ndb-id=1\ndb-system-id=\"abc\"\ndb-version=\"15\"\n", qr/db-system-id "abc" is not a number/ ],
	[ "[db]\ndb-id=1\ndb-system-id=1\ndb-version=\"../15\"\n", qr/db-version "..\/15" is not a version/ ],
	[ "[db]\ndb-id=1\ndb-system-id=1\ndb-version=15x\n", qr/invalid JSON value/ ],
	[ "[db\n", qr/malformed section header/ ],
	[ "[db]\ndb-id=1\ndb-system-id=1\ndb-version=\"15\"\n[db:history]\n1={\"db-id\":\n", qr/invalid JSON value/ ],
);
my $i = 0;
for my $case (@bad_archive_info)
{
	my $dir = "$root/bad" . ++$i . "/archive/demo";
	put("$dir/archive.info", $case->[0]);
	like(error_of("SELECT * FROM pitr_restore._source_info('$dir')"),
		qr/could not read pgBackRest archive\.info.*\n.*$case->[1]/s,
		"malformed archive.info $i is an error saying what is wrong");
}

# The .copy is used when the main file is damaged, as pgBackRest does.
{
	my $dir = "$root/copy/archive/demo";
	put("$dir/archive.info", "[db\n");
	put("$dir/archive.info.copy", $good_archive_info);
	is($node->safe_psql('postgres', "SELECT layout, system_identifier, archive_id FROM pitr_restore._source_info('$dir')"),
		'pgbackrest|7712239434143852768|15-1', 'archive.info.copy stands in for a damaged archive.info');
}

# backup.info and manifests
my $repo = "$root/repo";
put("$repo/archive/demo/archive.info", $good_archive_info);
my $full = '20261125-222754F';
my $incr = "${full}_20261125-222800I";
my %bk = (
	$full => '{"backup-archive-start":"000000010000000000000003","backup-archive-stop":"000000010000000000000003","backup-error":false,"backup-lsn-start":"0/3000028","backup-lsn-stop":"0/3000100","backup-timestamp-start":1795645674,"backup-timestamp-stop":1795645676,"backup-type":"full","db-id":1}',
	$incr => '{"backup-archive-start":"000000010000000000000008","backup-archive-stop":"000000010000000000000008","backup-error":false,"backup-lsn-start":"0/8000028","backup-lsn-stop":"0/8000100","backup-prior":"' . $full . '","backup-reference":["' . $full . '"],"backup-timestamp-start":1795645680,"backup-timestamp-stop":1795645682,"backup-type":"incr","db-id":1}',
);
sub backup_info
{
	my (%b) = @_;
	return "[backup:current]\n" . join('', map { "$_=$b{$_}\n" } sort keys %b)
	  . "\n[db]\ndb-id=1\ndb-system-id=7712239434143852768\ndb-version=\"15\"\n\n[db:history]\n"
	  . "1={\"db-catalog-version\":202209061,\"db-control-version\":1300,\"db-system-id\":7712239434143852768,\"db-version\":\"15\"}\n";
}
sub manifest
{
	my ($label, $type, $prior, $lsn) = @_;
	my $p = $prior ? "backup-prior=\"$prior\"\n" : '';
	return "[backup]\nbackup-archive-start=\"000000010000000000000003\"\nbackup-archive-stop=\"000000010000000000000003\"\n"
	  . "backup-label=\"$label\"\nbackup-lsn-start=\"$lsn\"\nbackup-lsn-stop=\"0/9000100\"\n$p"
	  . "backup-timestamp-start=1795645674\nbackup-timestamp-stop=1795645676\nbackup-type=\"$type\"\n"
	  . "[backup:db]\ndb-system-id=7712239434143852768\n";
}
put("$repo/backup/demo/backup.info", backup_info(%bk));
put("$repo/backup/demo/$full/backup.manifest", manifest($full, 'full', undef, '0/3000028'));
put("$repo/backup/demo/$incr/backup.manifest", manifest($incr, 'incr', $full, '0/8000028'));
my $q = "SELECT label, type, coalesce(prior, '-'), start_lsn, usable, coalesce(reason, '-') FROM pitr_restore._source_backups('$repo/archive/demo')";
is($node->safe_psql('postgres', $q),
	"$full|full|-|0/3000028|t|-\n$incr|incr|$full|0/8000028|t|-",
	'a full backup and its incremental are read and usable');

# A manifest that belongs to another backup does not stand in for it.
put("$repo/backup/demo/$full/backup.manifest", manifest($incr, 'incr', $full, '0/3000028'));
like($node->safe_psql('postgres', $q),
	qr/^\Q$full\E\|full\|-\|0\/3000028\|f\|backup \Q$full\E is marked as failed \(manifest unreadable: manifest is for backup \Q$incr\E\)\n\Q$incr\E\|incr\|\Q$full\E\|0\/8000028\|f\|backup \Q$full\E it depends on is marked as failed/,
	'a manifest naming another backup puts the backup and its dependants in error');
put("$repo/backup/demo/$full/backup.manifest", manifest($full, 'full', undef, '0/3000028'));

# A cycle of priors ends in an error, not a hang.
{
	my $a = '20261125-000000F_20261125-000001D';
	my $b = '20261125-000000F_20261125-000002I';
	my %cyc = (
		$a => '{"backup-archive-start":"000000010000000000000003","backup-archive-stop":"000000010000000000000003","backup-lsn-start":"0/3000028","backup-lsn-stop":"0/3000100","backup-prior":"' . $b . '","backup-type":"diff","db-id":1}',
		$b => '{"backup-archive-start":"000000010000000000000003","backup-archive-stop":"000000010000000000000003","backup-lsn-start":"0/3000028","backup-lsn-stop":"0/3000100","backup-prior":"' . $a . '","backup-type":"incr","db-id":1}',
	);
	my $r = "$root/cycle";
	put("$r/archive/demo/archive.info", $good_archive_info);
	put("$r/backup/demo/backup.info", backup_info(%cyc));
	put("$r/backup/demo/$a/backup.manifest", manifest($a, 'diff', $b, '0/3000028'));
	put("$r/backup/demo/$b/backup.manifest", manifest($b, 'incr', $a, '0/3000028'));
	is($node->safe_psql('postgres', "SELECT bool_or(usable), min(reason) FROM pitr_restore._source_backups('$r/archive/demo')"),
		"f|the chain of prior backups of $a loops", 'a loop of priors is unusable, not a hang');
}

my @bad_backup_info = (
	[ "[backup:current]\nx={\n[db]\ndb-system-id=1\n", qr/backup x: invalid JSON value/ ],
	[ "[backup:current]\n", qr/key "db-system-id" is missing from section \[db\]/ ],
	[ "[backup:current]\nx={\"backup-type\":\"full\"}\n[db]\ndb-system-id=1\n", qr/backup x: backup-lsn-start is missing or malformed/ ],
	[ "[backup:current]\nx={\"backup-type\":\"weird\"}\n[db]\ndb-system-id=1\n", qr/unknown backup-type "weird"/ ],
	[ "[backup:current]\nx={\"backup-type\":\"incr\",\"backup-lsn-start\":\"0/1\"}\n[db]\ndb-system-id=1\n", qr/incr backup without backup-prior/ ],
	[ "[backup:current]\nx={\"backup-type\":\"full\",\"backup-lsn-start\":\"0/1/2\"}\n[db]\ndb-system-id=1\n", qr/backup-lsn-start is missing or malformed/ ],
	[ "[backup:current]\nx=[1]\n[db]\ndb-system-id=1\n", qr/expected a JSON object/ ],
);
$i = 0;
for my $case (@bad_backup_info)
{
	my $r = "$root/bbi" . ++$i;
	put("$r/archive/demo/archive.info", $good_archive_info);
	put("$r/backup/demo/backup.info", $case->[0]);
	like(error_of("SELECT * FROM pitr_restore._source_backups('$r/archive/demo')"),
		qr/could not read pgBackRest backup\.info.*\n.*$case->[1]/s,
		"malformed backup.info $i is an error saying what is wrong");
}

# Barman: a damaged backup.info is a backup in error; a running one too.
{
	my $s = "$root/barman/pg";
	make_path("$s/wals");
	put("$s/wals/xlog.db", '');
	put("$s/base/20261125T000001/backup.info", "begin_xlog=0/6000028\nbegin_wal=000000010000000000000006\nend_xlog=0/7000000\nend_wal=000000010000000000000006\nstatus=DONE\ntimeline=1\nsystemid=42\nbegin_time=2026-11-25 22:27:57.425562+00:00\nend_time=2026-11-25 22:27:58.658025+00:00\n");
	put("$s/base/20261125T000002/backup.info", "this is not barman\n");
	put("$s/base/20261125T000003/backup.info", "begin_xlog=0/8000028\nbegin_wal=000000010000000000000008\nend_xlog=None\nend_wal=None\nstatus=STARTED\ntimeline=1\n");
	put("$s/base/20261125T000004/backup.info", "begin_xlog=0/8000028\nbegin_wal=000000010000000000000008\nend_xlog=0/7\nend_wal=000000010000000000000008\nstatus=DONE\ntimeline=1\n");
	is($node->safe_psql('postgres', "SELECT label, coalesce(timeline, 0), coalesce(stop_lsn::text, '-'), status, usable, coalesce(system_identifier, 0) FROM pitr_restore._source_backups('$s') ORDER BY label"),
		"20261125T000001|1|0/7000000|DONE|t|42\n"
		. "20261125T000002|0|-|backup.info unreadable: line 1: expected key=value|f|0\n"
		. "20261125T000003|1|-|STARTED|f|0\n"
		. "20261125T000004|0|-|backup.info unreadable: end_xlog is missing or malformed|f|0",
		'Barman backups: done, damaged, running, inconsistent');
	like(error_of("SELECT * FROM pitr_restore._source_info('$root/barman')"),
		qr/holds 1 entries but no WAL archive files/, 'the Barman home is not a server directory');
}

# The keyword form reads pgBackRest's configuration.
{
	my $conf = "$root/pgbackrest.conf";
	put($conf, "[global]\nrepo3-path=$repo\n\n[demo]\npg1-path=/nonexistent\n");
	is($node->safe_psql('postgres', "SELECT wal_dir, restore_command FROM pitr_restore._source_info('pgbackrest:stanza=demo config=$conf')"),
		"$repo/archive/demo|pgbackrest '--stanza=demo' '--config=$conf' archive-get %f \"%p\"",
		'the lowest configured repository is used when repo= is not given');
	put("$root/pct%.conf", "[global]\nrepo1-path=$repo\n");
	is($node->safe_psql('postgres', "SELECT restore_command FROM pitr_restore._source_info('pgbackrest:stanza=demo config=''$root/pct%.conf'' repo=1')"),
		"pgbackrest '--stanza=demo' '--config=$root/pct%%.conf' --repo=1 archive-get %f \"%p\"",
		'quoted keyword values work and % is doubled for restore_command');
	like(error_of("SELECT * FROM pitr_restore._source_info('pgbackrest:stanza=demo config=$root/none.conf')"),
		qr/could not open pgBackRest configuration file/, 'a missing configuration file is an error');
	like(error_of("SELECT * FROM pitr_restore._source_info('pgbackrest:stanza=demo config=$conf repo=0')"),
		qr/invalid repo "0"/, 'repo must be a repository number');
	like(error_of("SELECT * FROM pitr_restore._source_info('pgbackrest:stanza=../x config=$conf')"),
		qr/invalid stanza name/, 'a stanza name cannot leave the repository');
}

done_testing();
