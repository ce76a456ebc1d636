# table_history over an archive the archive module wrote (issue 22): the
# sidecars (format 3) carry the relation files each segment touches, so the
# scan records them without reading the WAL and the FIRST history reads
# only the segments that touched the table, with the rows of a history
# that reads every segment.  A format 2 sidecar is still trusted for the
# index; its segment, whose relations it does not carry, is read by the
# first history once.  What the sidecars say a segment touches is what
# reading its WAL finds.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($node, $archive) = new_primary(name => 'hsprimary', module => 1,
	archive_name => 'hsarchive', conf => qq{
shared_preload_libraries = 'pitr_restore'
autovacuum = off
max_locks_per_transaction = 512
});

# "watched" is touched in a few segments among many that only "filler"
# touches: created and loaded, later an UPDATE, later a DELETE.
$node->safe_psql('postgres', q{
CREATE TABLE watched (id int PRIMARY KEY, v int);
INSERT INTO watched SELECT g, 0 FROM generate_series(1, 100) g;
CREATE TABLE filler (v int);
});
for my $round (1 .. 10)
{
	$node->safe_psql('postgres',
		'INSERT INTO filler SELECT g FROM generate_series(1, 3000) g');
	$node->safe_psql('postgres', 'UPDATE watched SET v = v + 1 WHERE id <= 5')
	  if $round == 4;
	$node->safe_psql('postgres', 'DELETE FROM watched WHERE id > 90')
	  if $round == 8;
	$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
}
workload($node, 'end', 3);
wait_archived($node);

my $arch_id = qq{(SELECT archive_id FROM pitr_restore.archive
				 WHERE directory = pitr_restore.archive_path('$archive'))};
my $sql_relations = qq{
	SELECT s.file_name, s.dbs, s.relfilenodes FROM pitr_restore.segment_relations s
	 WHERE s.archive_id = $arch_id ORDER BY 1};
my $sql_unknown = qq{
	SELECT string_agg(f.file_name, ',' ORDER BY f.file_name)
	  FROM pitr_restore.archive_file f
	 WHERE f.archive_id = $arch_id AND f.kind = 'segment' AND f.status = 'ok'
	   AND NOT EXISTS (SELECT 1 FROM pitr_restore.segment_relations s
					   WHERE s.archive_id = f.archive_id AND s.file_name = f.file_name)};

# A fresh index of the module's archive, read from its sidecars only.
sub scan_fresh
{
	$node->safe_psql('postgres', "DELETE FROM pitr_restore.archive WHERE archive_id = $arch_id");
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT segments_scanned FROM pitr_restore.scan_archive('$archive')");
	die "scan failed: $err" if $ret;
	return $err;
}

my @sidecars = sort glob("$archive/*.pitrsum");
cmp_ok(scalar(@sidecars), '>=', 10, scalar(@sidecars) . ' segments archived with sidecars');
is(scalar(grep { slurp_file($_) =~ /\Apitr_restore segment summary 3\n(?:.*\n)*relations \d+\n/ } @sidecars),
	scalar(@sidecars), 'every sidecar is format 3 and lists the relations its segment touches');

my $err = scan_fresh();
unlike($err, qr/ignoring sidecar/, 'the scan trusts every sidecar');
is($node->safe_psql('postgres', $sql_unknown), '',
	'the scan recorded every segment\'s relations from its sidecar, before any history');
my $from_sidecars = $node->safe_psql('postgres', $sql_relations);

# Which segments touched the table, by the sidecars.
my $touched_sql = qq{
	SELECT count(*) FROM pitr_restore.segment_relations s
	 WHERE s.archive_id = $arch_id
	   AND s.relfilenodes && ARRAY(SELECT relfilenode FROM pg_class WHERE relname = 'watched')};
my $touched = $node->safe_psql('postgres', $touched_sql);
my $total = $node->safe_psql('postgres', qq{
	SELECT count(*) FROM pitr_restore.archive_file WHERE archive_id = $arch_id AND kind = 'segment'});
cmp_ok($touched, '<', $total / 2, "the table touched $touched of $total segments");

# The history as rows, and how many segments it read (its DEBUG1 line).
sub history
{
	my ($ret, $out, $e) = $node->psql('postgres', qq{SET client_min_messages = debug1;
		SELECT xid, commit_time, commit_lsn, committed, operation, rows, relation
		  FROM pitr_restore.table_history('watched', archive_dir => '$archive')
		 ORDER BY commit_lsn, operation});
	die "history failed: $e" if $ret;
	my ($read, $of) = $e =~ /table history read (\d+) of (\d+) segments/;
	die "no segment count in: $e" unless defined $of;
	return ($out, $read, $of);
}

my ($rows, $read, $of) = history();
ok($read <= $touched + 1 && $read < $of,
	"the first history read only the segments that touched the table ($read of $of, $touched touched)");
like($rows, qr/\|update\|5\|/, 'it finds the UPDATE');
like($rows, qr/\|delete\|10\|/, 'and the DELETE');

# A format 2 sidecar (as a 1.2 archive module wrote it) of a segment that
# did not touch the table: trusted by the scan, its relations not known, so
# the first history reads it too, and records them.
my $untouched = $node->safe_psql('postgres', qq{
	SELECT s.file_name FROM pitr_restore.segment_relations s
	 WHERE s.archive_id = $arch_id
	   AND NOT s.relfilenodes && ARRAY(SELECT relfilenode FROM pg_class WHERE relname = 'watched')
	 ORDER BY 1 OFFSET 2 LIMIT 1});
die 'no untouched segment' unless $untouched;
my $v3 = slurp_file("$archive/$untouched.pitrsum");
my $v2 = $v3 =~ s/\Apitr_restore segment summary 3\n/pitr_restore segment summary 2\n/r;
$v2 =~ s/^relations .*\n//m;
$v2 =~ s/^rels .*\n//mg;
$v2 =~ s/^end [0-9a-f]{8}\n\z//m;
$v2 .= sprintf("end %08x\n", crc32c($v2));
open(my $fh, '>', "$archive/$untouched.pitrsum") or die;
print $fh $v2;
close($fh);
$err = scan_fresh();
unlike($err, qr/ignoring sidecar/, 'a format 2 sidecar is still trusted');
is($node->safe_psql('postgres', $sql_unknown), $untouched,
	'its segment alone has no relations recorded');
my ($rows2, $read2) = history();
is($read2, $read + 1, 'the first history reads that segment too');
is($rows2, $rows, 'and lists the same rows');
is($node->safe_psql('postgres', $sql_unknown), '', 'and records what it touches');
open($fh, '>', "$archive/$untouched.pitrsum") or die;
print $fh $v3;
close($fh);

# A history that reads everything (no relations known) lists the same rows,
# and finds in the WAL the relations the sidecars listed.
$node->safe_psql('postgres',
	"DELETE FROM pitr_restore.segment_relations WHERE archive_id = $arch_id");
my ($rows3, $read3, $of3) = history();
cmp_ok($read3, '>=', $of3 - 1, "a history without relations reads every segment ($read3 of $of3)");
is($rows3, $rows, 'and lists exactly the rows the first history listed');
is($node->safe_psql('postgres', $sql_relations), $from_sidecars,
	'each sidecar\'s relations are what reading its segment finds');

# A segment that touches more relation files than a sidecar lists (one
# transaction drops 2,100 tables): its sidecar says "relations -", the scan
# records nothing for it, and the first history reads it.
$node->safe_psql('postgres', q{
DO $$BEGIN
  FOR i IN 1 .. 2100 LOOP EXECUTE format('CREATE TABLE many_%s (a int)', i); END LOOP;
END$$;
});
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->safe_psql('postgres', q{
DO $$BEGIN
  EXECUTE (SELECT 'DROP TABLE ' || string_agg(format('many_%s', i), ', ')
             FROM generate_series(1, 2100) i);
END$$;
});
workload($node, 'after', 3);
wait_archived($node);
my @unlisted = sort map { s/\.pitrsum$//r =~ s/.*\///r }
  grep { slurp_file($_) =~ /^relations -$/m } glob("$archive/*.pitrsum");
cmp_ok(scalar(@unlisted), '>=', 1,
	'the sidecar of the segment that drops 2,100 tables does not list them: ' . join(',', @unlisted));
$err = scan_fresh();
unlike($err, qr/ignoring sidecar/, 'it is still trusted');
is($node->safe_psql('postgres', $sql_unknown), join(',', @unlisted),
	'the scan records no relations for that segment alone');
my ($rows4, $read4) = history();
is($read4, $read + scalar(@unlisted), 'the first history reads it too');
is($rows4, $rows, 'and lists the same rows');

done_testing();
