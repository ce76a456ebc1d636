# Every format pg_basebackup writes restores: plain and tar, with WAL
# fetched, streamed or left to the archive (-X none), compressed on the
# client (gzip, lz4, zstd) or on the server (gzip, lz4, zstd).  Each backup
# goes through prepare_restore, starts, and recovery stops exactly where
# the resolver said, with last_xid kept and next_xid lost.  A FIFO where a
# backup file is expected never hangs backups().  archive_mode => 'off'
# builds a copy that, promoted, adds nothing to the archive.
use strict;
use warnings;
use POSIX qw(mkfifo);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my ($primary, $archive) = new_primary(name => 'formats');
my $bkdir = $primary->backup_dir;
# -X fetch needs the backup's WAL still in pg_wal when the backup ends
$primary->append_conf('postgresql.conf', "wal_keep_size = '256MB'\n");
$primary->reload;

workload($primary, 'a', 20);
my %backups = (
	plain_fetch     => [ 'plain',   '-Fp', '-Xfetch' ],
	plain_stream    => [ 'plain',   '-Fp', '-Xstream' ],
	plain_none      => [ 'plain',   '-Fp', '-Xnone' ],
	plain_srv_gzip  => [ 'plain',   '-Fp', '--compress=server-gzip' ],
	tar_fetch       => [ 'tar',     '-Ft', '-Xfetch' ],
	tar_stream      => [ 'tar',     '-Ft', '-Xstream' ],
	tar_none        => [ 'tar',     '-Ft', '-Xnone' ],
	tar_gzip        => [ 'tar.gz',  '-Ft', '-z' ],
	tar_client_lz4  => [ 'tar.lz4', '-Ft', '--compress=client-lz4' ],
	tar_client_zstd => [ 'tar.zst', '-Ft', '--compress=client-zstd' ],
	tar_server_gzip => [ 'tar.gz',  '-Ft', '--compress=server-gzip' ],
	tar_server_lz4  => [ 'tar.lz4', '-Ft', '--compress=server-lz4' ],
	tar_server_zstd => [ 'tar.zst', '-Ft', '--compress=server-zstd', '-Xfetch' ],
);
foreach my $name (sort keys %backups)
{
	my ($format, @options) = @{ $backups{$name} };
	$primary->backup($name, backup_options => \@options);
}
ok(-f "$bkdir/tar_client_lz4/base.tar.lz4", 'client-side lz4 wrote base.tar.lz4');
ok(-f "$bkdir/tar_server_lz4/base.tar.lz4", 'server-side lz4 wrote base.tar.lz4');

workload($primary, 'b', 20);
wait_archived($primary);

# Where a file is expected, a FIFO: backups() lists the backup with a
# problem instead of blocking in open() (which no cancel could end).
mkdir("$bkdir/fifo_version");
PostgreSQL::Test::Utils::system_or_bail('cp', "$bkdir/plain_fetch/backup_label",
	"$bkdir/fifo_version/backup_label");
mkfifo("$bkdir/fifo_version/PG_VERSION", 0600) or die "mkfifo: $!";
mkdir("$bkdir/fifo_tar");
mkfifo("$bkdir/fifo_tar/base.tar", 0600) or die "mkfifo: $!";
mkdir("$bkdir/fifo_manifest");
PostgreSQL::Test::Utils::system_or_bail('cp', "$bkdir/tar_none/base.tar",
	"$bkdir/fifo_manifest/base.tar");
mkfifo("$bkdir/fifo_manifest/backup_manifest", 0600) or die "mkfifo: $!";
foreach my $query ('SELECT pitr_restore.scan_archive()',
	q{SELECT location || ': ' || problem FROM pitr_restore.backups() WHERE location LIKE '%fifo%' ORDER BY 1})
{
	my ($out, $err, $timed_out) = ('', '', 0);
	$primary->psql('postgres', $query, stdout => \$out, stderr => \$err,
		timeout => 60, timed_out => \$timed_out);
	ok(!$timed_out, "$query: returns although the backups hold FIFOs");
	is($err, '', "$query: without an error");
	if ($query =~ /backups/)
	{
		like($out, qr{fifo_manifest: .*backup_manifest" is not a regular file},
			'a FIFO backup_manifest is reported');
		like($out, qr{fifo_tar: no backup_label, base\.tar},
			'a FIFO base.tar is not taken for a tar');
		like($out, qr{fifo_version: .*PG_VERSION" is not a regular file},
			'a FIFO PG_VERSION is reported');
	}
}
PostgreSQL::Test::Utils::system_or_bail('rm', '-rf', "$bkdir/fifo_version",
	"$bkdir/fifo_tar", "$bkdir/fifo_manifest");

my $last = xid_of($primary, 'b10');

# Build a restore of one backup with prepare_restore and start it.
sub restore_from
{
	my ($name, $extra, $node_name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($node_name // "from_$name");
	my $dir = $node->data_dir;
	my ($ret, $row, $err) = $primary->psql('postgres', qq{
		SELECT backup_format, end_lsn, last_xid, next_xid
		  FROM pitr_restore.prepare_restore('$dir', target_xid => '$last',
			   backup_label => '$name'$extra)});
	is($ret, 0, "$name: prepare_restore succeeds") or diag($err);
	configure_restored($node);
	return ($node, split(/\|/, $row));
}

foreach my $name (sort keys %backups)
{
	my ($node, $format, $end_lsn, $last_xid, $next_xid) = restore_from($name, '');
	is($format, $backups{$name}[0], "$name: restored as $backups{$name}[0]");
	is($last_xid, $last, "$name: last_xid is the target");
	$node->start;
	wait_paused($node, $name);
	check_stop($node, $name, $end_lsn, $last_xid, $next_xid);
	$node->stop('immediate');
}

# archive_mode => 'off': promoted, the copy archives nothing.  Then the same
# restore without it does archive its new timeline, which shows the check
# can see archiving.
sub archive_listing
{
	opendir(my $dh, $archive) or die "opendir $archive: $!";
	my @files = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	return join(',', @files);
}

my ($copy) = restore_from('tar_stream',
	", archive_mode => 'off', recovery_action => 'promote'", 'copy');
my $before = archive_listing();
like(slurp_file($copy->data_dir . '/postgresql.auto.conf'), qr/\narchive_mode = off\n/,
	'archive_mode = off is written into postgresql.auto.conf');
$copy->start;
$copy->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the copy was not promoted';
is($copy->safe_psql('postgres', 'SHOW archive_mode'), 'off', 'the copy runs with archiving off');
$copy->safe_psql('postgres', "INSERT INTO ledger (tag) VALUES ('copy'); SELECT pg_switch_wal()");
$copy->safe_psql('postgres', 'CHECKPOINT');
sleep(3);
is($copy->safe_psql('postgres', 'SELECT archived_count FROM pg_stat_archiver'), '0',
	'the copy archived nothing');
is(archive_listing(), $before, 'and the archive is unchanged');
$copy->stop;

my ($control) = restore_from('tar_fetch', ", recovery_action => 'promote'",
	'control');
$control->start;
$control->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the control restore was not promoted';
ok($control->poll_query_until('postgres', 'SELECT archived_count > 0 FROM pg_stat_archiver'),
	'without archive_mode => off, a promoted restore archives');
isnt(archive_listing(), $before, 'into the same archive');
$control->stop;

done_testing();
