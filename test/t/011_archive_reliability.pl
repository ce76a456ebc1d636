# The archive scanner cannot be fooled, hung or raced: records with a valid
# CRC but lying lengths, FIFOs and symlinks named like archive files,
# concurrent scans, aliases of one directory, transient failures, several
# copies of one segment, and compressed files whose decompression command
# would fail or give the wrong size.  Each verdict of the index is checked
# against what the real decompression command does with the file.
use strict;
use warnings;
use File::Copy;
use POSIX qw(mkfifo);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my ($node, $archive) = new_primary(name => 'reliability');
my $segsize = 16 * 1024 * 1024;

$node->safe_psql('postgres', q{
CREATE TABLE t (id serial, v text);
INSERT INTO t (v) SELECT 'a' FROM generate_series(1, 1000);
});
wait_archived($node);

sub segments_of
{
	my ($dir) = @_;
	return map { my @f = split /\|/, $_, 3; $f[0] => "$f[1]|$f[2]" } split /\n/,
	  $node->safe_psql('postgres',
		"SELECT file_name, status, coalesce(detail, '') FROM pitr_restore.segments('$dir')");
}

sub archived_segments
{
	my ($dir) = @_;
	opendir(my $dh, $dir) or die;
	my @s = sort grep { /^[0-9A-F]{24}$/ } readdir($dh);
	closedir $dh;
	return @s;
}

# ---------------------------------------------------------------------
# Records with a recomputed, valid CRC whose lengths lie.  A logical
# message of known content is rewritten in place into a COMMIT claiming
# 0x7FFFFFFF subtransactions, and another into a PREPARE with a 65535-byte
# GID; the CRC is recomputed as xlogreader.c's ValidXLogRecord checks it.
# ---------------------------------------------------------------------

# Find a message with this prefix in the archive and rewrite its record
# with $rewrite->(\$data) (data length unchanged); returns the file name.
sub craft_record
{
	my ($dir, $prefix, $rmid, $info, $rewrite) = @_;
	for my $seg (archived_segments($dir))
	{
		my $bytes = slurp_bin("$dir/$seg");
		my $p = index($bytes, "$prefix\0");
		next if $p < 0;
		# xl_logical_message: 24 bytes before the prefix; the main data
		# is announced by XLR_BLOCK_ID_DATA_SHORT and a one-byte length.
		my $data_start = $p - 24;
		my $rec = $data_start - 2 - 24;
		die 'not a short data block' unless ord(substr($bytes, $rec + 24, 1)) == 255;
		my $datalen = ord(substr($bytes, $rec + 25, 1));
		my $tot = unpack('V', substr($bytes, $rec, 4));
		die 'unexpected record layout' unless $tot == 24 + 2 + $datalen;
		die 'record crosses a page' unless int($rec / 8192) == int(($rec + $tot - 1) / 8192);
		my $data = "\0" x $datalen;
		$rewrite->(\$data);
		substr($bytes, $data_start, $datalen) = $data;
		substr($bytes, $rec + 16, 2) = pack('CC', $info, $rmid);
		substr($bytes, $rec + 20, 4) = pack('V', record_crc(substr($bytes, $rec, $tot)));
		spew_bin("$dir/$seg", $bytes);
		return $seg;
	}
	die "message $prefix not found";
}

# Emit a message that does not cross a WAL page, in a segment of its own.
sub emit_message
{
	my ($prefix) = @_;
	for my $try (1 .. 20)
	{
		my ($start, $end) = split /\|/, $node->safe_psql('postgres', qq{
			SELECT pg_current_wal_insert_lsn(),
				   pg_logical_emit_message(false, '$prefix$try', repeat('x', 100))});
		my ($sh, $sl) = map { hex } split m{/}, $start;
		my ($eh, $el) = map { hex } split m{/}, $end;
		if (int($sl / 8192) == int(($el - 1) / 8192) && $sh == $eh)
		{
			wait_archived($node);
			return "$prefix$try";
		}
	}
	die 'every message crossed a page';
}

my $crafted = PostgreSQL::Test::Utils::tempdir('archive_crafted');
my $commit_msg = emit_message('pitr_crafted_commit_');
my $prepare_msg = emit_message('pitr_crafted_prepare_');
copy("$archive/$_", "$crafted/$_") for archived_segments($archive);

# COMMIT (rmid 1, info XLOG_XACT_COMMIT | XLOG_XACT_HAS_INFO): xact_time,
# xinfo = XACT_XINFO_HAS_SUBXACTS | XACT_XINFO_HAS_TWOPHASE, nsubxacts.
my $commit_seg = craft_record($crafted, $commit_msg, 1, 0x80, sub {
	my ($d) = @_;
	substr($$d, 0, 16) = pack('q<VV', 0, (1 << 1) | (1 << 4), 0x7FFFFFFF);
});
# PREPARE (rmid 1, info XLOG_XACT_PREPARE): an xl_xact_prepare header
# with gidlen 65535.
my $prepare_seg = craft_record($crafted, $prepare_msg, 1, 0x10, sub {
	my ($d) = @_;
	substr($$d, 0, 4) = pack('V', 0x57F94534);
	substr($$d, 8, 4) = pack('V', 1000);
	substr($$d, 54, 2) = pack('v', 65535);
});
isnt($commit_seg, $prepare_seg, 'the two crafted records are in different segments');

my %crafted = segments_of($crafted);
like($crafted{$commit_seg},
	qr/^corrupt\|.*record at .* \(resource manager 1, info 0x80\) is corrupt: an array is longer than the record/,
	'a COMMIT claiming 0x7FFFFFFF subtransactions is corrupt');
like($crafted{$prepare_seg},
	qr/^corrupt\|.*record at .* \(resource manager 1, info 0x10\) is corrupt: the GID length is out of range/,
	'a PREPARE with a 65535-byte GID is corrupt');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the backend survived the crafted records');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');

# ---------------------------------------------------------------------
# Nothing blocks: a FIFO and a symlink named like segments are reported,
# never opened, and the scan ends well within a statement timeout.
# ---------------------------------------------------------------------
my $odd = PostgreSQL::Test::Utils::tempdir('archive_odd');
my @segs = archived_segments($archive);
copy("$archive/$_", "$odd/$_") for @segs[0 .. 1];
mkfifo("$odd/0000000100000000000000A0", 0600) or die "mkfifo: $!";
mkfifo("$odd/0000000100000000000000A1.zst", 0600) or die "mkfifo: $!";
mkfifo("$odd/00000002.history", 0600) or die "mkfifo: $!";
symlink("$archive/$segs[0]", "$odd/0000000100000000000000A2") or die "symlink: $!";
my ($ret, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '60s'; SELECT segments_total FROM pitr_restore.scan_archive('$odd')");
is($ret, 0, 'a scan over FIFOs and symlinks finishes') or diag($err);
my %odd = segments_of($odd);
like($odd{'0000000100000000000000A0'}, qr/^not_regular\|.*is a FIFO/, 'a FIFO named like a segment is reported');
like($odd{'0000000100000000000000A1.zst'}, qr/^not_regular\|.*is a FIFO/, 'a compressed one too');
like($odd{'0000000100000000000000A2'}, qr/^not_regular\|.*symbolic link/, 'a symlink is not followed');
is($node->safe_psql('postgres', qq{
	SELECT status FROM pitr_restore.archive_file f JOIN pitr_restore.archive a USING (archive_id)
	 WHERE a.directory = '$odd' AND f.file_name = '00000002.history'}),
	'not_regular', 'a FIFO named like a history file is reported');

# A FIFO named PG_VERSION in a backup directory hangs neither scan_archive()
# nor backups().
my $fifo_backup = $node->backup_dir . '/fifo_backup';
mkdir($fifo_backup) or die;
spew_bin("$fifo_backup/backup_label", "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n");
mkfifo("$fifo_backup/PG_VERSION", 0600) or die "mkfifo: $!";
($ret, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '60s'; SELECT * FROM pitr_restore.scan_archive('$odd'); SELECT count(*) > 0 FROM pitr_restore.backups('$odd')");
is($ret, 0, 'a FIFO named PG_VERSION in a backup hangs nothing') or diag($err);
like($node->safe_psql('postgres', "SELECT problem FROM pitr_restore.base_backup WHERE name = 'fifo_backup'"),
	qr/PG_VERSION/, 'and the backup is reported with a problem naming PG_VERSION');
unlink("$fifo_backup/PG_VERSION", "$fifo_backup/backup_label");
rmdir($fifo_backup);

# ---------------------------------------------------------------------
# Aliases of one directory share one index.
# ---------------------------------------------------------------------
my $alias_dir = PostgreSQL::Test::Utils::tempdir('archive_alias');
copy("$archive/$_", "$alias_dir/$_") for @segs;
my $link = PostgreSQL::Test::Utils::tempdir('links') . '/via_link';
symlink($alias_dir, $link) or die;
$node->safe_psql('postgres', "SELECT * FROM pitr_restore.scan_archive('$alias_dir')");
for my $alias ("$alias_dir/", "/proc/self/root$alias_dir", $link, "$alias_dir/../" . (split m{/}, $alias_dir)[-1])
{
	is($node->safe_psql('postgres',
		"SELECT segments_scanned FROM pitr_restore.scan_archive('$alias')"),
		'0', "alias $alias reads nothing again");
}
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM pitr_restore.archive WHERE directory LIKE '%archive_alias%' OR directory LIKE '%via_link%'}),
	'1', 'aliases share one archive row');

# ---------------------------------------------------------------------
# Transient failures are retried: a segment that could not be opened is
# read again at the next scan, though its name, size and mtime are the same.
# ---------------------------------------------------------------------
my $perm = PostgreSQL::Test::Utils::tempdir('archive_perm');
copy("$archive/$_", "$perm/$_") for @segs;
chmod 0000, "$perm/$segs[-1]";
$node->safe_psql('postgres', "SELECT * FROM pitr_restore.scan_archive('$perm')");
my %perm = segments_of($perm);
like($perm{$segs[-1]}, qr/^unreadable\|.*Permission denied/, 'an unreadable segment is reported');
chmod 0600, "$perm/$segs[-1]";
is($node->safe_psql('postgres', "SELECT segments_scanned FROM pitr_restore.scan_archive('$perm')"),
	'1', 'the next scan reads it again');
%perm = segments_of($perm);
like($perm{$segs[-1]}, qr/^ok\|/, 'and finds it ok');
is($node->safe_psql('postgres', "SELECT segments_scanned FROM pitr_restore.scan_archive('$perm')"),
	'0', 'an ok segment is not read again');

# ---------------------------------------------------------------------
# Concurrency: a resolver's refresh does not wait for a scan in progress
# when a committed index exists, and says so; a first scan waits within
# lock_timeout.
# ---------------------------------------------------------------------
my $busy = PostgreSQL::Test::Utils::tempdir('archive_busy');
copy("$archive/$_", "$busy/$_") for @segs[0 .. 1];
$node->safe_psql('postgres', "SELECT * FROM pitr_restore.scan_archive('$busy')");
copy("$archive/$segs[2]", "$busy/$segs[2]");
my $holder = $node->background_psql('postgres');
$holder->query_safe("BEGIN; SELECT * FROM pitr_restore.scan_archive('$busy')");
($ret, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '20s'; SELECT pitr_restore.refresh_archive('$busy') > 0");
is($out, 't', 'refresh during a scan answers from the committed index');
like($err, qr/is being scanned by another session; using its index as last committed/,
	'and says so');
my $fresh = PostgreSQL::Test::Utils::tempdir('archive_first');
copy("$archive/$_", "$fresh/$_") for @segs[0 .. 1];
$holder->query_safe("SELECT * FROM pitr_restore.scan_archive('$fresh')");
($ret, $out, $err) = $node->psql('postgres',
	"SET lock_timeout = '500ms'; SELECT pitr_restore.refresh_archive('$fresh')");
like($err, qr/canceling statement due to lock timeout/,
	'a first refresh waits for the first scan, within lock_timeout');
$holder->query_safe('COMMIT');
$holder->quit;

# Two first scans at once: both succeed, each file indexed once.
my $race = PostgreSQL::Test::Utils::tempdir('archive_race');
copy("$archive/$_", "$race/$_") for @segs;
my @bg = map { $node->background_psql('postgres') } 1 .. 2;
$bg[0]->query_safe('BEGIN');
$bg[0]->query_safe("SELECT * FROM pitr_restore.scan_archive('$race')");
$bg[1]->query_until(qr/started/, "\\echo started\nSELECT * FROM pitr_restore.scan_archive('$race');\n");
$bg[0]->query_safe('COMMIT');
$bg[1]->quit;
$bg[0]->quit;
is($node->safe_psql('postgres', qq{
	SELECT count(*) || '/' || count(DISTINCT file_name) FROM pitr_restore.archive_file f
	  JOIN pitr_restore.archive a USING (archive_id) WHERE a.directory = '$race'}),
	scalar(@segs) . '/' . scalar(@segs), 'concurrent first scans index each file once');
ok(!$node->log_contains('duplicate key value'), 'without a duplicate key error');

# ---------------------------------------------------------------------
# What the index certifies is what recovery fetches, decompressed exactly
# as the restore_command's decompression command does it.
# ---------------------------------------------------------------------
my $copies = PostgreSQL::Test::Utils::tempdir('archive_copies');
copy("$archive/$_", "$copies/$_") for @segs;
my $seg = $segs[1];
my $plain_bytes = slurp_bin("$archive/$seg");

# plain X and a damaged X.zst: recovery fetches X.
system_or_bail("zstd -q -c $archive/$seg > $copies/$seg.zst");
truncate("$copies/$seg.zst", (-s "$copies/$seg.zst") - 7);
# no plain copy: X.zst (damaged) comes before X.gz (good).
my $seg2 = $segs[2];
unlink("$copies/$seg2");
system_or_bail("zstd -q -c $archive/$seg2 > $copies/$seg2.zst");
truncate("$copies/$seg2.zst", (-s "$copies/$seg2.zst") - 7);
system_or_bail("gzip -c $archive/$seg2 > $copies/$seg2.gz");

my %copies = segments_of($copies);
like($copies{$seg}, qr/^ok\|/, 'the plain copy is indexed');
like($copies{"$seg.zst"}, qr/^unused\|recovery fetches "$seg" instead/, 'the damaged .zst beside it is unused');
like($copies{"$seg2.zst"}, qr/^truncated\|/, 'without a plain copy, the .zst recovery fetches is judged');
like($copies{"$seg2.gz"}, qr/^unused\|recovery fetches "$seg2.zst" instead/, 'and the good .gz is unused');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM pitr_restore.segment_run r JOIN pitr_restore.archive a USING (archive_id)
	 WHERE a.directory = '$copies' AND r.timeline = 1
	   AND ('x' || lpad(right('$seg2', 8), 16, '0'))::bit(64)::bigint BETWEEN r.lo AND r.hi}),
	'0', 'a segment whose fetched copy is bad is not usable');

# Variants of one segment, each in an archive of its own and checked
# against its decompression command.
my $base = $segs[1];
my %cmd = (zst => 'zstd -dq -c', gz => 'gzip -dc', lz4 => 'lz4 -dq -c', bz2 => 'bzip2 -dc');
my %compress = (zst => 'zstd -q --check -c', gz => 'gzip -c', lz4 => 'lz4 -q -c', bz2 => 'bzip2 -c');
my %variant;
my $src = "$archive/$base";
sub add_variant
{
	my ($label, $ext, $make) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir('variant');
	$make->($src, "$dir/$base.$ext");
	$variant{$label} = [$dir, $ext];
}
for my $ext (sort keys %compress)
{
	add_variant("$ext single", $ext, sub { system_or_bail("$compress{$ext} $_[0] > $_[1]") });
	add_variant("$ext two members", $ext,
		sub { system_or_bail("($compress{$ext} $_[0]; $compress{$ext} $_[0]) > $_[1]") });
	add_variant("$ext trailing garbage", $ext,
		sub { system_or_bail("($compress{$ext} $_[0]; echo garbage) > $_[1]") });
	add_variant("$ext trailing zeros", $ext,
		sub { system_or_bail("($compress{$ext} $_[0]; head -c 64 /dev/zero) > $_[1]") });
	add_variant("$ext truncated", $ext,
		sub { system_or_bail("$compress{$ext} $_[0] > $_[1]"); truncate($_[1], (-s $_[1]) - 7) });
}
add_variant('gz empty member after', 'gz',
	sub { system_or_bail("($compress{gz} $_[0]; : | gzip -c) > $_[1]") });
add_variant('zst not zstd', 'zst', sub { spew_bin($_[1], 'this is not zstd data' x 10) });

# A valid .zst whose frame checksum straddles a 256 kB read boundary: a
# skippable frame in front shifts the data frame to put it there.
add_variant('zst checksum straddles 256kB', 'zst', sub {
	system_or_bail("zstd -q --check -c $_[0] > $_[1].frame");
	my $frame = slurp_bin("$_[1].frame");
	unlink("$_[1].frame");
	my $k = 1;
	$k++ while 262144 * $k + 2 - 8 - length($frame) < 0;
	my $pad = 262144 * $k + 2 - 8 - length($frame);
	spew_bin($_[1], pack('VV', 0x184D2A50, $pad) . ("\0" x $pad) . $frame);
});

my %vstatus;
for my $label (sort keys %variant)
{
	my ($dir, $ext) = @{ $variant{$label} };
	my %st = segments_of($dir);
	$vstatus{$label} = $st{"$base.$ext"};
	# What the command gives: exit status and size.
	system("$cmd{$ext} $dir/$base.$ext > $dir/out 2>/dev/null");
	my $exit = $? >> 8;
	my $size = -s "$dir/out";
	unlink("$dir/out");
	my $usable = ($exit == 0 && $size == $segsize) ? 1 : 0;
	my ($status) = split /\|/, $vstatus{$label};
	is(($status eq 'ok') ? 1 : 0, $usable,
		"$label: index says $status; $cmd{$ext} exits $exit with $size bytes")
	  or diag($vstatus{$label});
}
like($vstatus{'zst not zstd'},
	qr/^corrupt\|.*not a zstd frame, which "zstd -d" rejects/,
	'library errors are explained in a sentence');
like($vstatus{'gz trailing garbage'}, qr/trailing garbage/, 'trailing garbage is named');

# A bad history file's detail names the file.
my $hist = PostgreSQL::Test::Utils::tempdir('archive_hist');
copy("$archive/$_", "$hist/$_") for @segs[0 .. 1];
spew_bin("$hist/00000002.history", "not a history\n");
$node->safe_psql('postgres', "SELECT * FROM pitr_restore.scan_archive('$hist')");
like($node->safe_psql('postgres', qq{
	SELECT status || '|' || detail FROM pitr_restore.archive_file f JOIN pitr_restore.archive a USING (archive_id)
	 WHERE a.directory = '$hist' AND f.file_name = '00000002.history'}),
	qr/^corrupt\|timeline history file "00000002.history" is invalid: /,
	'a bad history file is reported by name');

# ---------------------------------------------------------------------
# A mark made inside a released savepoint belongs to the top-level
# transaction recovery targets.
# ---------------------------------------------------------------------
my $top = $node->safe_psql('postgres', q{
BEGIN;
INSERT INTO t (v) VALUES ('before savepoint');
SELECT txid_current();
SAVEPOINT s;
INSERT INTO t (v) VALUES ('in savepoint');
SELECT pitr_restore.mark_transaction('mark_in_savepoint') AS m \gset
RELEASE SAVEPOINT s;
COMMIT;
});
wait_archived($node);
$node->safe_psql('postgres', "SELECT * FROM pitr_restore.scan_archive('$archive')");
is($node->safe_psql('postgres', q{
	SELECT xid || '|' || outcome FROM pitr_restore.wal_event
	 WHERE kind = 'mark' AND name = 'mark_in_savepoint'}),
	"$top|committed", 'a mark in a released savepoint is indexed under the top-level xid');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the backend survived everything');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed at all');

done_testing();
