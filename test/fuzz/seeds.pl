#!/usr/bin/perl
# Cut small seed inputs, one directory per harness, out of the real files
# run.sh made: a WAL archive, a plain and a tar backup, a history file.
#   perl seeds.pl <cluster dir> <seed dir>
use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use File::Path qw(make_path);

my ($d, $out) = @ARGV;
die "usage: seeds.pl dir out\n" unless defined $out;
my $archive = "$d/archive";

sub slurp
{
	my ($f, $max) = @_;
	open(my $fh, '<:raw', $f) or die "$f: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return defined $max ? substr($data, 0, $max) : $data;
}

sub put
{
	my ($h, $name, $data) = @_;
	make_path("$out/$h");
	open(my $fh, '>:raw', "$out/$h/$name") or die "$out/$h/$name: $!";
	print $fh $data;
	close $fh;
}

# Compress with the real tools, so the frames are what archivers write.
sub squeeze
{
	my ($cmd, $data) = @_;
	my $tmp = "$out/.tmp";
	open(my $fh, '>:raw', $tmp) or die $!;
	print $fh $data;
	close $fh;
	my $z = `$cmd < $tmp`;
	unlink $tmp;
	return $z;
}

opendir(my $dh, $archive) or die $!;
my @names = sort grep { !/^\./ } readdir($dh);
closedir $dh;
my @segs = grep { /^[0-9A-F]{24}$/ } @names;

# history and backup history files, backup_label
put('history', $_, slurp("$archive/$_")) for grep { /\.history$/ } @names;
put('backup_label', $_, slurp("$archive/$_")) for grep { /\.backup$/ } @names;
put('backup_label', 'backup_label', slurp("$d/plain/backup_label"));

# archive file names, as listed and with the suffixes compressors add
my $n = 0;
put('file_name', 'name' . $n++, $_) for @names;
put('file_name', 'name' . $n++, "$segs[0].zst");
put('file_name', 'name' . $n++, "$segs[0].gz");
put('file_name', 'name' . $n++, "$segs[0].partial");

# backup_manifest: the real one keeps its first few files, and its
# checksum is recomputed over the shortened text, as the server writes it
for my $src ("$d/plain/backup_manifest", "$d/tar/backup_manifest")
{
	my @lines = split /(?<=\n)/, slurp($src);
	my (@head, @files, @tail);
	for my $l (@lines)
	{
		if ($l =~ /^\{ "Path"/) { push @files, $l; }
		elsif (@files) { push @tail, $l; }
		else { push @head, $l; }
	}
	@files = @files[0 .. 3];
	$files[-1] =~ s/\},\n$/}\n/;
	pop @tail;    # the old Manifest-Checksum line
	my $body = join('', @head, @files, @tail);
	my $m = $body . '"Manifest-Checksum": "' . sha256_hex($body) . "\"}\n";
	put('backup_manifest', ($src =~ m{/(plain|tar)/})[0], $m);
}

# tar: the first real entries of base.tar (headers as pg_basebackup writes
# them), then the end-of-archive blocks; gzip and zstd copies
my $tar = slurp("$d/tar/base.tar", 4 * 1024 * 1024);
my $pos = 0;
my $cut = '';
while ($pos + 512 <= length($tar) && length($cut) < 12 * 1024)
{
	my $hdr = substr($tar, $pos, 512);
	last if $hdr =~ /^\0+$/;
	my $size = oct('0' . (substr($hdr, 124, 12) =~ s/[\0 ]//gr));
	my $len = 512 + int(($size + 511) / 512) * 512;
	$cut .= substr($tar, $pos, $len) if $size <= 8192;
	$pos += $len;
}
$cut .= "\0" x 1024;
put('tar', 'base.tar', $cut);
put('tar', 'base.tar.gz', squeeze('gzip -c', $cut));
put('tar', 'base.tar.zst', squeeze('zstd -q -c', $cut));

# segment content: a slice of a real segment, plain, gzip and zstd
my $slice = slurp("$archive/$segs[0]", 16 * 1024);
put('archive_read', 'segment', substr($slice, 0, 4096));
put('archive_read', 'segment.gz', squeeze('gzip -c', $slice));
put('archive_read', 'segment.zst', squeeze('zstd -q -c', $slice));

# first pages of real segments, with the archive's identity appended
# (system identifier, segment size, and the harness's name index)
my %index = ('000000010000000000000001' => 0, '000000010000000000000002' => 1);
for my $s (@segs)
{
	next unless exists $index{$s};
	my $page = slurp("$archive/$s", 8192);
	my $sysid = substr($page, 24, 8);
	my $segsize = substr($page, 32, 4);
	put('page_header', $s, $page . $sysid . $segsize . chr($index{$s}));
}
