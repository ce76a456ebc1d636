# In-server mutation campaign: seeded random damage to a real archive and
# real backups, CRC-valid crafted records whose lengths lie, a diverged
# clone's segments of the same names, and damage made in place after a
# first scan, scanned and resolved by the extension.  Two promises are checked:
#   - no backend crash, whatever the archive holds (no "terminated by
#     signal" in the server log, the server answers afterwards);
#   - never "ok" or "reachable" where recovery would not get there: a
#     segment the index calls ok is fetched with the emitted
#     restore_command (exit 0, exactly one segment), and a sample of the
#     targets still called reachable after a relevant mutation is checked
#     by a real recovery with the emitted settings.
# MUTATIONS=n (default 200), SEED=s (printed; reproduces a run; default
# 20261207, so that `make test` damages the archive the same way every
# run: test/fuzz/run.sh draws random seeds), ONLY=i,j (just those mutants
# of that seed), VERIFY_MAX=n (real recoveries per run).
# Failed mutants are kept under tmp_check/mutants_failed/ (KEEP=1 keeps it).
use strict;
use warnings;
use File::Basename;
use File::Copy;
use File::Path qw(make_path remove_tree);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my $n_mutants = $ENV{MUTATIONS} // 200;
# make test: one fixed campaign; test/fuzz/run.sh passes a random SEED.
my $FIXED_SEED = 20261207;
my $seed = $ENV{SEED} // $FIXED_SEED;
my %only = map { $_ => 1 } split /,/, ($ENV{ONLY} // '');
my $verify_max = $ENV{VERIFY_MAX} // ($n_mutants > 1000 ? 60 : 10);
my $SEGSIZE = 1024 * 1024;
my $BLCKSZ = 8192;
diag("mutation campaign: SEED=$seed MUTATIONS=$n_mutants"
	  . " (reproduce: SEED=$seed; one mutant: ONLY=<i>)");

# ---------------------------------------------------------------------
# A real archive (1 MB segments, so that every mutant is quick to scan)
# with transactions, restore points, a prepared transaction, a plain and a
# tar backup.

my ($node, $archive) = new_primary(name => 'mut', initdb => ['--wal-segsize=1'],
	conf => "restart_after_crash = on\n");
my $bkdir = $node->backup_dir;
workload($node, 'a', 50);
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->backup('b1');
workload($node, 'b', 50);
$node->safe_psql('postgres', q{SELECT pg_create_restore_point('rp1')});
$node->safe_psql('postgres', q{
BEGIN; INSERT INTO ledger (tag) VALUES ('px'); SAVEPOINT s; INSERT INTO ledger (tag) VALUES ('px_sub');
PREPARE TRANSACTION 'px';});
workload($node, 'c', 50);
$node->safe_psql('postgres', q{COMMIT PREPARED 'px'});
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->backup('bt', backup_options => ['-Ft', '-X', 'fetch']);
workload($node, 'd', 50);
$node->safe_psql('postgres', q{SELECT pg_create_restore_point('rp2')});
workload($node, 'e', 50);
wait_archived($node);

my @targets = (
	"target_name => 'rp1'",
	"target_xid => '" . xid_of($node, 'c25') . "'",
	"target_xid => '" . xid_of($node, 'e40') . "'",);

opendir(my $dh, $archive) or die $!;
my @files = sort grep { !/^\./ } readdir($dh);
closedir $dh;
my @segments = grep { /^[0-9A-F]{24}$/ } @files;
my @backup_files = grep { /\.backup$/ } @files;
my %pristine = map { $_ => slurp_bin("$archive/$_") } @files;

# A diverged clone: b1 started as a primary of its own (same system, same
# timeline, same segment names, other WAL); its completed segments whose
# names the archive also holds.
my %clone;
{
	my ($c, $cur, $wal) = diverged_clone($node, 'b1', 'mut_clone',
		"restart_after_crash = off\n", sub {
			my ($c) = @_;
			for my $i (1 .. 12)
			{
				$c->safe_psql('postgres', "INSERT INTO ledger (tag) SELECT 'clone${i}_' || g FROM generate_series(1, 40) g");
				$c->safe_psql('postgres', 'SELECT pg_switch_wal()') if $i % 2 == 0;
			}
		});
	for my $seg (@segments)
	{
		$clone{$seg} = slurp_bin("$wal/$seg")
		  if $seg lt $cur && -f "$wal/$seg" && slurp_bin("$wal/$seg") ne $pristine{$seg};
	}
	$c->stop('fast');
}


sub spew
{
	my ($f, $data) = @_;
	unlink $f;    # break a hard link to the pristine copy
	spew_bin($f, $data);
}

# Run a compressor as the archive would have; "zstd -q -c", "gzip -c".
sub squeeze
{
	my ($cmd, $data) = @_;
	my $tmp = "$PostgreSQL::Test::Utils::tmp_check/squeeze.$$";
	spew($tmp, $data);
	my $z = `$cmd < '$tmp'`;
	unlink $tmp;
	return $z;
}

# ---------------------------------------------------------------------
# WAL records of a segment, found as the server lays them out (their CRC:
# PitrTest's record_crc).

# Read $n logical bytes of WAL from file offset $p, skipping page headers;
# returns (bytes, [file offset of each byte], next offset) or () past the
# end of the segment.
sub read_logical
{
	my ($seg, $p, $n) = @_;
	my ($bytes, @offs) = ('');
	while ($n > 0)
	{
		$p += ($p % $SEGSIZE == 0 ? 40 : 24) if $p % $BLCKSZ == 0;
		my $chunk = $BLCKSZ - $p % $BLCKSZ;
		$chunk = $n if $n < $chunk;
		return () if $p + $chunk > length($seg);
		$bytes .= substr($seg, $p, $chunk);
		push @offs, $p .. $p + $chunk - 1;
		$p += $chunk;
		$n -= $chunk;
	}
	return ($bytes, \@offs, $p);
}

# The records that start in a segment: {start, tot, info, rmid, bytes,
# offs (only for transaction records)}.
sub wal_records
{
	my ($seg) = @_;
	my @recs;
	my $remlen = unpack('V', substr($seg, 16, 4));
	my $p = 40;
	if ($remlen)
	{
		(undef, undef, $p) = read_logical($seg, 40, $remlen);
		return \@recs unless defined $p;    # continues past this segment
	}
	while (1)
	{
		$p = ($p + 7) & ~7;
		last if $p + 24 > length($seg);
		my ($hdr) = read_logical($seg, $p, 24) or last;
		my ($tot, $xid, $prev, $info, $rmid) = unpack('V V Q< C C', $hdr);
		last if $tot < 24;
		my ($bytes, $offs, $end) = read_logical($seg, $p, $tot);
		last unless defined $bytes;
		my $start = $p;
		$start += ($p % $SEGSIZE == 0 ? 40 : 24) if $p % $BLCKSZ == 0;
		# transaction records and restore points are kept for crafting
		my $keep = $rmid == 1 || ($rmid == 0 && ($info & 0xF0) == 0x70);
		push @recs, { start => $start, tot => $tot, info => $info,
			rmid => $rmid, bytes => $keep ? $bytes : undef,
			offs => $keep ? $offs : undef,
			crc_ok => $rmid == 1
			  ? record_crc($bytes) == unpack('V', substr($bytes, 20, 4)) : 1 };
		last if $rmid == 0 && ($info & 0xF0) == 0x40;    # XLOG_SWITCH
		$p = $end;
	}
	return \@recs;
}

# Where the main data of a record without block references starts.
sub main_data
{
	my ($bytes) = @_;
	my $p = 24;
	while ($p < length($bytes))
	{
		my $id = ord(substr($bytes, $p, 1));
		return ($p + 2, ord(substr($bytes, $p + 1, 1))) if $id == 255;
		return ($p + 5, unpack('V', substr($bytes, $p + 1, 4))) if $id == 254;
		if ($id == 253) { $p += 3; next; }    # origin
		if ($id == 252) { $p += 5; next; }    # top-level xid
		return ();                            # a block reference
	}
	return ();
}

my %records = map { $_ => wal_records($pristine{$_}) } @segments;
my (@xact_recs, @rp_recs);
my $n_checked = 0;
my $n_crc_ok = 0;
for my $s (@segments)
{
	for my $r (@{ $records{$s} })
	{
		if ($r->{rmid} == 0 && defined $r->{bytes})
		{
			my ($m) = main_data($r->{bytes});
			push @rp_recs, [ $s, $r ] if $m && ord(substr($r->{bytes}, $m - 2, 1)) == 255;
			next;
		}
		next unless $r->{rmid} == 1;
		$n_checked++;
		$n_crc_ok++ if $r->{crc_ok};
		push @xact_recs, [ $s, $r ] if main_data($r->{bytes});
	}
}
ok($n_checked > 100 && $n_crc_ok == $n_checked,
	"WAL walker: $n_crc_ok of $n_checked transaction records pass the recomputed CRC");
ok(scalar(grep { ($_->[1]{info} & 0x70) == 0x10 } @xact_recs) > 0,
	'the archive holds a PREPARE record to craft from');
ok(scalar(@rp_recs) > 0, 'the archive holds a restore point record to craft from');

# ---------------------------------------------------------------------
# The mutations.  Each takes the mutant's archive and backup directories
# and returns a description; %$touched collects the file names it changed.

sub pick { return $_[ int(rand(scalar @_)) ]; }

# A segment still there as a plain file (an earlier operation on the same
# mutant may have replaced it by a compressed copy).
sub pick_plain
{
	my ($dir) = @_;
	my @p = grep { -f "$dir/$_" } @segments;
	return @p ? pick(@p) : undef;
}

sub flip_bits
{
	my ($data, $n, $offsets) = @_;
	for (1 .. $n)
	{
		my $o = $offsets->();
		next if $o >= length($data);
		substr($data, $o, 1) = chr(ord(substr($data, $o, 1)) ^ (1 << int(rand(8))));
	}
	return $data;
}

# Offsets biased to page headers and record headers.
sub header_offset
{
	my ($seg) = @_;
	if (rand() < 0.5)
	{
		my $page = int(rand($SEGSIZE / $BLCKSZ));
		return $page * $BLCKSZ + int(rand($page ? 24 : 40));
	}
	my $r = pick(@{ $records{$seg} });
	return $r->{start} + int(rand(24));
}

# A mutation of one plain segment $s: $how->($s, its bytes) returns the
# bytes to write, what was done and, to write them beside $s rather than
# over it, the suffix of the file written.
sub plain_mutation
{
	my ($how) = @_;
	return sub {
		my ($dir, $bdir, $touched) = @_;
		my $s = pick_plain($dir) // return undef;
		my ($d, $what, $suffix) = $how->($s, slurp_bin("$dir/$s"));
		spew("$dir/$s" . ($suffix // ''), $d);
		$touched->{$s} = 1;
		return $what;
	};
}

# 1 to $max bit flips in a plain segment, at offsets $where->($s) draws;
# $what, a format of the count and the segment, says so.
sub bit_flips
{
	my ($max, $where, $what) = @_;
	return plain_mutation(sub {
		my ($s, $d) = @_;
		my $n = 1 + int(rand($max));
		return (flip_bits($d, $n, sub { $where->($s) }), sprintf($what, $n, $s));
	});
}

sub write_crafted
{
	my ($dir, $seg, $rec, $bytes) = @_;
	substr($bytes, 20, 4) = pack('V', record_crc($bytes));
	my $data = -f "$dir/$seg" ? slurp_bin("$dir/$seg") : $pristine{$seg};
	my $offs = $rec->{offs};
	substr($data, $offs->[$_], 1) = substr($bytes, $_, 1) for 0 .. length($bytes) - 1;
	spew("$dir/$seg", $data);
}

my %mutations;
%mutations = (
	bitflip_headers => bit_flips(4, \&header_offset, '%d bit flips in page/record headers of %s'),
	bitflip_anywhere => bit_flips(16, sub { int(rand($SEGSIZE)) }, '%d random bit flips in %s'),
	truncate => plain_mutation(sub {
		my ($s, $d) = @_;
		my $at = rand() < 0.5 ? int(rand($SEGSIZE / $BLCKSZ)) * $BLCKSZ : int(rand($SEGSIZE));
		return (substr($d, 0, $at), "$s truncated to $at bytes");
	}),
	page_ops => plain_mutation(sub {
		my ($s, $d) = @_;
		my $np = $SEGSIZE / $BLCKSZ;
		my ($a, $b) = (int(rand($np)), int(rand($np)));
		my $op = pick(qw(zero swap duplicate));
		my $pa = substr($d, $a * $BLCKSZ, $BLCKSZ);
		my $pb = substr($d, $b * $BLCKSZ, $BLCKSZ);
		if ($op eq 'zero') { substr($d, $a * $BLCKSZ, $BLCKSZ) = "\0" x $BLCKSZ; }
		elsif ($op eq 'swap')
		{
			substr($d, $a * $BLCKSZ, $BLCKSZ) = $pb;
			substr($d, $b * $BLCKSZ, $BLCKSZ) = $pa;
		}
		else { substr($d, $b * $BLCKSZ, $BLCKSZ) = $pa; }
		return ($d, "$op page(s) $a/$b of $s");
	}),
	wrong_name => sub {
		my ($dir, $bdir, $touched) = @_;
		my $i = int(rand(@segments - 1));
		spew("$dir/$segments[$i+1]", $pristine{ $segments[$i] });
		$touched->{ $segments[ $i + 1 ] } = 1;
		return "$segments[$i+1] holds the content of $segments[$i]";
	},
	plain_trailing_garbage => plain_mutation(sub {
		my ($s, $d) = @_;
		return ($d . join('', map { chr(rand(256)) } 1 .. 1 + int(rand(64))),
			"trailing garbage after $s");
	}),
	zst_damaged_beside_plain => plain_mutation(sub {
		my ($s, $d) = @_;
		my $z = squeeze('zstd -q -c', $d);
		if (rand() < 0.5) { $z = substr($z, 0, int(rand(length($z)))); }
		else { $z = flip_bits($z, 1 + int(rand(4)), sub { int(rand(length($z))) }); }
		return ($z, "$s plain and $s.zst damaged", '.zst');
	}),
	compressed_only => sub {
		my ($dir, $bdir, $touched) = @_;
		my $s = pick_plain($dir) // return undef;
		my $plain = slurp_bin("$dir/$s");
		my $kind = pick(qw(zst_damaged zst_concat gz_trailing gz_two_members
			gz_split_members zst_valid gz_valid));
		my ($name, $z);
		if ($kind eq 'zst_damaged')
		{
			$z = squeeze('zstd -q -c', $plain);
			$z = flip_bits($z, 1 + int(rand(8)), sub { int(rand(length($z))) });
		}
		elsif ($kind eq 'zst_concat')
		{
			$z = squeeze('zstd -q -c', $plain)
			  . squeeze('zstd -q -c', substr($plain, 0, 1 + int(rand(8192))));
		}
		elsif ($kind eq 'gz_trailing')
		{
			$z = squeeze('gzip -c', $plain) . join('', map { chr(rand(256)) } 1 .. 1 + int(rand(32)));
		}
		elsif ($kind eq 'gz_two_members')
		{
			$z = squeeze('gzip -c', $plain)
			  . squeeze('gzip -c', substr($plain, 0, 1 + int(rand(8192))));
		}
		elsif ($kind eq 'gz_split_members')
		{
			my $half = int(rand($SEGSIZE));
			$z = squeeze('gzip -c', substr($plain, 0, $half))
			  . squeeze('gzip -c', substr($plain, $half));
		}
		elsif ($kind eq 'zst_valid') { $z = squeeze('zstd -q -c', $plain); }
		else { $z = squeeze('gzip -c', $plain); }
		$name = $s . ($kind =~ /^zst/ ? '.zst' : '.gz');
		unlink "$dir/$s";
		spew("$dir/$name", $z);
		$touched->{"valid:$name"} = 1 if $kind =~ /_valid$/ && !$touched->{$s};
		$touched->{$s} = 1;
		return "$s replaced by $name ($kind)";
	},
	plain_and_other_copy => sub {
		my ($dir, $bdir, $touched) = @_;
		my $s = pick_plain($dir) // return undef;
		my $other = flip_bits($pristine{$s}, 1, sub { header_offset($s) });
		my $suffix = pick('.zst', '.gz');
		spew("$dir/$s$suffix", squeeze($suffix eq '.zst' ? 'zstd -q -c' : 'gzip -c', $other));
		$touched->{$s} = 1;
		return "$s plain, and $s$suffix with a different header";
	},
	bogus_history => sub {
		my ($dir, $bdir, $touched) = @_;
		my $tli = 2 + int(rand(3));
		my $name = sprintf('%08X.history', $tli);
		my $kind = pick(qw(garbage plausible));
		my $content = $kind eq 'garbage'
		  ? join('', map { chr(rand(256)) } 1 .. int(rand(200)))
		  : sprintf("%d\t%X/%X\tno recovery target specified\n", $tli - 1,
			0, int(rand(scalar(@segments) * $SEGSIZE)));
		spew("$dir/$name", $content);
		$touched->{$name} = 1;
		return "bogus $name ($kind)";
	},
	bogus_backup_file => sub {
		my ($dir, $bdir, $touched) = @_;
		my $f = pick(@backup_files);
		my $d = slurp_bin("$dir/$f");
		if (rand() < 0.5) { $d = flip_bits($d, 1 + int(rand(6)), sub { int(rand(length($d))) }); }
		else
		{
			my $lsn = sprintf('0/%X', int(rand(scalar(@segments) * $SEGSIZE)));
			$d =~ s{^(START|STOP) WAL LOCATION: \S+}{$1 WAL LOCATION: $lsn}m;
		}
		spew("$dir/$f", $d);
		$touched->{$f} = 1;
		return "bogus $f";
	},
	backup_label => sub {
		my ($dir, $bdir, $touched) = @_;
		my $f = "$bdir/b1/backup_label";
		my $d = slurp_bin($f);
		if (rand() < 0.5) { $d = flip_bits($d, 1 + int(rand(6)), sub { int(rand(length($d))) }); }
		else
		{
			my $lsn = sprintf('0/%X', int(rand(scalar(@segments) * $SEGSIZE)));
			my $key = pick('START WAL LOCATION', 'CHECKPOINT LOCATION', 'START TIMELINE');
			$d =~ s{^$key: \S+}{$key: $lsn}m;
		}
		spew($f, $d);
		$touched->{backup} = 1;
		return "mutated b1/backup_label";
	},
	backup_manifest => sub {
		my ($dir, $bdir, $touched) = @_;
		my $b = pick('b1', 'bt');
		my $f = "$bdir/$b/backup_manifest";
		my $d = slurp_bin($f);
		$d = flip_bits($d, 1 + int(rand(6)), sub { int(rand(length($d))) });
		spew($f, $d);
		$touched->{backup} = 1;
		return "mutated $b/backup_manifest";
	},
	backup_tar => sub {
		my ($dir, $bdir, $touched) = @_;
		my $f = "$bdir/bt/base.tar";
		my $d = slurp_bin($f);
		# headers of the first entries (backup_label comes first)
		$d = flip_bits($d, 1 + int(rand(6)), sub { int(rand(4)) * 512 + int(rand(512)) });
		spew($f, $d);
		$touched->{backup} = 1;
		return "mutated headers of bt/base.tar";
	},
	crafted_commit => sub {
		my ($dir, $bdir, $touched) = @_;
		my @c = grep {
			my $op = $_->[1]{info} & 0x70;
			($op == 0x00 || $op == 0x20 || $op == 0x30) && (main_data($_->[1]{bytes}))[1] >= 16
		} @xact_recs;
		my ($s, $r) = @{ pick(@c) };
		my $bytes = $r->{bytes};
		my ($m, $len) = main_data($bytes);
		# time (8), xinfo (4), then what the flags announce
		my @lies = (
			[ 0x02 | 0x10, 0x7FFFFFFF, 'subxacts+twophase, nsubxacts 0x7FFFFFFF' ],
			[ 0x02, 0x7FFFFFFF, 'subxacts, nsubxacts 0x7FFFFFFF' ],
			[ 0x02, 1000, 'subxacts, nsubxacts 1000' ],
			[ 0x04, 0x7FFFFFFF, 'relfilenodes, nrels 0x7FFFFFFF' ],
			[ 0x08, 0x7FFFFFFF, 'invals, nmsgs 0x7FFFFFFF' ],
			[ 0x100, 0x7FFFFFFF, 'dropped stats, nitems 0x7FFFFFFF' ],
			[ 0x10 | 0x80, 0x41414141, 'twophase+gid, unterminated gid' ],
			[ 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100, 0x7FFFFFFF, 'every flag' ],
		);
		my $lie = pick(@lies);
		substr($bytes, 16, 1) = chr(ord(substr($bytes, 16, 1)) | 0x80);    # XLOG_XACT_HAS_INFO
		substr($bytes, $m + 8, 4) = pack('V', $lie->[0]);
		substr($bytes, $m + 12, 4) = pack('V', $lie->[1]);
		write_crafted($dir, $s, $r, $bytes);
		$touched->{$s} = 1;
		return sprintf('CRC-valid crafted xact record (info 0x%02X) at %s+0x%X: %s',
			$r->{info}, $s, $r->{start}, $lie->[2]);
	},
	crafted_prepare => sub {
		my ($dir, $bdir, $touched) = @_;
		my ($s, $r) = @{ pick(grep { ($_->[1]{info} & 0x70) == 0x10 } @xact_recs) };
		my $bytes = $r->{bytes};
		my ($m, $len) = main_data($bytes);
		my @lies = (
			[ 54, 'v', 65535, 'gidlen 65535' ],
			[ 54, 'v', 201, 'gidlen 201' ],
			[ 28, 'V', 0x7FFFFFFF, 'nsubxacts 0x7FFFFFFF' ],
			[ 32, 'V', 0x7FFFFFFF, 'ncommitrels 0x7FFFFFFF' ],
			[ 48, 'V', 0x7FFFFFFF, 'ninvalmsgs 0x7FFFFFFF' ],
		);
		my $lie = pick(@lies);
		substr($bytes, $m + $lie->[0], $lie->[1] eq 'v' ? 2 : 4) = pack($lie->[1], $lie->[2]);
		write_crafted($dir, $s, $r, $bytes);
		$touched->{$s} = 1;
		return sprintf('CRC-valid crafted PREPARE at %s+0x%X: %s', $s, $r->{start}, $lie->[3]);
	},
);
$mutations{crafted_short_xlog} = sub {
	my ($dir, $bdir, $touched) = @_;
	# A restore point whose record (and main data) is cut short, CRC
	# recomputed: the name must never be read past the record's end.
	my ($s, $r) = @{ pick(@rp_recs) };
	my ($m, $len) = main_data($r->{bytes});
	my $keep = pick(0, 4, 8);
	my $bytes = substr($r->{bytes}, 0, $m + $keep);
	substr($bytes, 0, 4) = pack('V', length($bytes));
	# the short form of the main data header: id 255, one length byte
	substr($bytes, $m - 1, 1) = chr($keep);
	write_crafted($dir, $s, $r, $bytes);
	$touched->{$s} = 1;
	return sprintf('CRC-valid restore point at %s+0x%X cut to %d bytes of data',
		$s, $r->{start}, $keep);
};
# Damage after a first scan, in place: the index was right when made.
# The file is first rewritten whole (breaking its hard link to the
# pristine archive), the first scan indexes it, then the change is made.
$mutations{in_place_truncation} = sub {
	my ($dir, $bdir, $touched) = @_;
	my $s = pick_plain($dir) // return undef;
	my $at = int(rand($SEGSIZE));
	spew("$dir/$s", slurp_bin("$dir/$s"));
	$touched->{$s} = 1;
	$touched->{_after_scan} = sub { truncate("$dir/$s", $at) or die "$s: $!"; };
	return "$s truncated in place to $at bytes after a first scan";
};
$mutations{clone_segment} = sub {
	my ($dir, $bdir, $touched) = @_;
	my @c = sort keys %clone;
	return undef unless @c;
	my $s = pick(@c);
	$touched->{$s} = 1;
	if (rand() < 0.5)
	{
		spew("$dir/$s", $clone{$s});
		return "$s replaced by a diverged clone's segment of the same name";
	}
	# After a first scan, same size, its mtime put back (touch -r).
	spew("$dir/$s", slurp_bin("$dir/$s"));
	$touched->{_after_scan} = sub {
		my @st = stat("$dir/$s");
		open(my $fh, '+<:raw', "$dir/$s") or die "$s: $!";
		print $fh $clone{$s};
		close $fh;
		utime($st[8], $st[9], "$dir/$s");
	};
	return "$s overwritten in place by a clone's segment after a first scan, mtime put back";
};

my @weighted = (
	('bitflip_headers') x 4, ('bitflip_anywhere') x 2, ('truncate') x 2,
	('page_ops') x 2, 'wrong_name', 'plain_trailing_garbage',
	('zst_damaged_beside_plain') x 2, ('compressed_only') x 4,
	'plain_and_other_copy', 'bogus_history', 'bogus_backup_file',
	'backup_label', 'backup_manifest', 'backup_tar',
	('crafted_commit') x 3, ('crafted_prepare') x 2);
# Classes added later take every 31st mutant instead of a place in
# @weighted, so that the mutants of a seed saved under
# test/fuzz/regressions/mutations/ stay what they were.
my @late = ('crafted_short_xlog');
# And these every 37th (where the 31st rule does not take it).
my @later = ('in_place_truncation', 'clone_segment');

# ---------------------------------------------------------------------
# The baseline: the pristine archive resolves every target.

sub query
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-A', '-t', '-F', "\t" ], on_error_stop => 0);
	return ($ret, $out // '', $err // '');
}

sub resolve_sql
{
	my ($t, $dir) = @_;
	return qq{SELECT 'RES', reachable, coalesce(end_lsn::text, ''),
	  coalesce(backup_location, ''), coalesce(wal_first::text, ''),
	  coalesce(wal_last::text, ''), replace(coalesce(recovery_conf, ''), E'\\n', E'\\r')
	  FROM pitr_restore.resolve_target($t, archive_dir => '$dir');\n};
}

my ($bret, $bout, $berr) = query(join('', map { resolve_sql($_, $archive) } @targets));
my $n_base = () = $bout =~ /^RES\tt\t/mg;
is($n_base, scalar @targets, 'every target is reachable in the pristine archive')
  or BAIL_OUT("baseline failed: $bout $berr");

# ---------------------------------------------------------------------
# The campaign.

my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my $failed_dir = "$tmp/mutants_failed";
my (@crashes, @false_ok, @false_reachable, @false_corrupt, %classes);
my ($n_run, $n_reachable, $n_relevant, $n_verified, $n_ok_fetched) = (0) x 5;
my $log_offset = -s $node->logfile;
my $n_rec = 0;
my $n_saved = 0;

# A crash the server logged since the last call.  Only the new part of the
# log is read: with every statement logged it grows by each mutant's.
sub server_crashed
{
	open(my $fh, '<:raw', $node->logfile) or die $node->logfile . ": $!";
	seek($fh, $log_offset, 0) or die "seek: $!";
	local $/;
	my $new = <$fh> // '';
	close $fh;
	$log_offset += length($new);
	return $new =~ /(terminated by signal[^\n]*)/ ? $1 : undef;
}

sub wait_server_up
{
	for (1 .. 120)
	{
		my ($ret) = query('SELECT 1');
		return 1 if $ret == 0;
		sleep 1;
	}
	return 0;
}

# The emitted restore_command, for one segment, into a scratch file: did
# it exit 0 with exactly one segment, and the content of one of the copies
# the index calls ok (@$files)?  Which copy counts is the extension's rule;
# what recovery fetches must be one the index read and certified.
sub fetch_with
{
	my ($conf, $dir, $seg, $files) = @_;
	my ($cmd) = $conf =~ /^restore_command = '((?:[^']|'')*)'/m or return undef;
	$cmd =~ s/''/'/g;
	my $dest = "$tmp/fetched.$$";
	unlink $dest;
	$cmd =~ s/%(.)/$1 eq 'f' ? $seg : $1 eq 'p' ? $dest : $1 eq '%' ? '%' : "%$1"/ge;
	my $rc = system('sh', '-c', "$cmd 2>/dev/null");
	my $size = -s $dest // -1;
	my $fetched = $size > 0 ? slurp_bin($dest) : '';
	unlink $dest;
	return "exit $rc, $size bytes" unless $rc == 0 && $size == $SEGSIZE;
	for my $file (@$files)
	{
		my $read = $file =~ /\.zst$/ ? `zstd -q -d -c '$dir/$file' 2>/dev/null`
		  : $file =~ /\.gz$/ ? `gzip -d -c '$dir/$file' 2>/dev/null`
		  : slurp_bin("$dir/$file");
		return 'ok' if $read eq $fetched;
	}
	return 'other content than ' . join(' or ', @$files);
}

# A real recovery from the backup with the emitted settings: does it
# pause exactly at end_lsn?
sub real_recovery
{
	my ($res) = @_;
	my $rn = PostgreSQL::Test::Cluster->new('verify' . ++$n_rec);
	my $dd = $rn->data_dir;
	my $loc = $res->{location};
	if (-f "$loc/base.tar")
	{
		make_path($dd);
		system('tar', '-xf', "$loc/base.tar", '-C', $dd) == 0 or return 'could not extract base.tar';
	}
	else
	{
		rmdir $dd;
		PostgreSQL::Test::RecursiveCopy::copypath($loc, $dd);
	}
	chmod 0700, $dd;
	unlink "$dd/postmaster.pid";
	$rn->append_conf('postgresql.conf', "port = " . $rn->port . "\n"
		  . "unix_socket_directories = '" . $rn->host . "'\n"
		  . "archive_mode = off\n");
	$rn->append_conf('postgresql.auto.conf', $res->{conf});
	$rn->set_recovery_mode;
	my $outcome;
	if (!$rn->start(fail_ok => 1))
	{
		$outcome = 'the server did not start';
	}
	else
	{
		for (1 .. 120)
		{
			my ($ret, $out) = $rn->psql('postgres',
				"SELECT pg_get_wal_replay_pause_state(), pg_last_wal_replay_lsn()",
				extra_params => [ '-A', '-t' ]);
			if ($ret == 0 && $out =~ /^paused\|(\S+)/)
			{
				$outcome = $1 eq $res->{end_lsn} ? 'ok' : "paused at $1, not $res->{end_lsn}";
				last;
			}
			if ($ret != 0 && !-f "$dd/postmaster.pid") { $outcome = 'the server stopped'; last; }
			select(undef, undef, undef, 0.5);
		}
		$outcome //= 'recovery did not pause within 60 s';
	}
	my $log = -f $rn->logfile ? slurp_bin($rn->logfile) : '';
	$rn->stop('immediate') if -f "$dd/postmaster.pid";
	if ($outcome ne 'ok')
	{
		my @l = grep { /FATAL|PANIC|recovery ended|wrong size|invalid|could not/ } split /\n/, $log;
		$outcome .= ': ' . join(' / ', @l[ 0 .. ($#l < 3 ? $#l : 3) ]) if @l;
	}
	remove_tree($rn->basedir);
	return $outcome;
}

for my $i (0 .. $n_mutants - 1)
{
	next if %only && !$only{$i};
	srand($seed + $i * 7919);
	my $dir = "$tmp/mutant_$i";
	my $bbase = "$tmp/mutant_${i}_b";
	my $bdir = "$bbase/backup";
	make_path($dir, $bdir);
	# hard links: a mutation replaces the files it changes (spew unlinks)
	system('cp', '-al', "$archive/.", "$dir/") == 0 or die;
	system('cp', '-al', "$bkdir/.", "$bdir/") == 0 or die;

	my %touched;
	my @desc;
	my $nops = rand() < 0.2 ? 2 : 1;
	my $late = $i % 31 == 30 ? $late[ int($i / 31) % @late ] :
	  $i % 37 == 36 ? $later[ int($i / 37) % @later ] : undef;
	$nops = 1 if defined $late;
	for (1 .. $nops)
	{
		my $m = $late // pick(@weighted);
		my $d = $mutations{$m}->($dir, $bdir, \%touched);
		next unless defined $d;
		push @desc, $d;
		$classes{$m}++;
	}
	my $desc = "mutant $i: " . join('; ', @desc);
	$n_run++;

	my $sql = "SET pitr_restore.backup_dir = '$bdir';\n"
	  . "SELECT 'SCAN', segments_total FROM pitr_restore.scan_archive('$dir');\n"
	  . "SELECT 'SEG', file_name, status FROM pitr_restore.segments('$dir');\n"
	  . join('', map { resolve_sql($_, $dir) } @targets);
	if (my $after = delete $touched{_after_scan})
	{
		# Scanned first, changed in place, then resolved with no scan
		# asked for: what is certified is the archive as it is now.
		query("SET pitr_restore.backup_dir = '$bdir';\n"
			  . "SELECT pitr_restore.scan_archive('$dir');\n");
		$after->();
		$sql = "SET pitr_restore.backup_dir = '$bdir';\n"
		  . join('', map { resolve_sql($_, $dir) } @targets)
		  . "SELECT pitr_restore.refresh_archive('$dir');\n"
		  . "SELECT 'SEG', file_name, status FROM pitr_restore.segments('$dir');\n";
	}
	my ($ret, $out, $err) = query($sql);
	my $failed = 0;
	# A lost connection is this mutant's crash: wait for the restart, so
	# that the postmaster has logged the signal, before reading the log.
	my $lost = ($ret == 2 || $err =~ /server closed the connection|connection to server .* lost/);
	wait_server_up() or BAIL_OUT("the server did not come back after $desc") if $lost;
	my $sig = server_crashed();
	if ($sig || $lost)
	{
		push @crashes, "$desc => " . ($sig // "connection lost: $err");
		$failed = 1;
	}

	my @res;
	for my $l (split /\n/, $out)
	{
		my @f = split /\t/, $l, -1;
		next unless @f && $f[0] eq 'RES';
		push @res, { reachable => $f[1], end_lsn => $f[2], location => $f[3],
			wal_first => $f[4], wal_last => $f[5], conf => ($f[6] =~ s/\r/\n/gr) };
	}
	my ($any_conf) = map { $_->{conf} } grep { $_->{conf} =~ /restore_command/ } @res;

	# Segments called ok that were changed: fetch them as recovery would.
	if (defined $any_conf)
	{
		my %ok_copies;
		for my $l (split /\n/, $out)
		{
			my ($tag, $file, $status) = split /\t/, $l;
			next unless $tag eq 'SEG' && $status eq 'ok';
			my ($base) = $file =~ /^([0-9A-F]{24})/ or next;
			push @{ $ok_copies{$base} }, $file if $touched{$base};
		}
		for my $base (sort keys %ok_copies)
		{
			$n_ok_fetched++;
			my $got = fetch_with($any_conf, $dir, $base, $ok_copies{$base});
			if (defined $got && $got ne 'ok')
			{
				push @false_ok, "$desc => " . join(', ', @{ $ok_copies{$base} })
				  . " ok in the index, but restore_command gives $got";
				$failed = 1;
			}
		}
	}

	# A segment only recompressed, validly, is as good as the original.
	for my $v (grep { s/^valid:// } keys %touched)
	{
		next if $lost || $nops != 1;
		my ($line) = grep { /^SEG\t\Q$v\E\t/ } split /\n/, $out;
		my $status = defined $line ? (split /\t/, $line)[2] : 'missing';
		push @false_corrupt, "$desc => a valid $v is indexed as $status"
		  if $status ne 'ok';
		$failed = 1 if $status ne 'ok';
	}

	# Targets still reachable after a change on their path: a sample is
	# recovered for real.
	for my $k (0 .. $#res)
	{
		my $r = $res[$k];
		next unless $r->{reachable} eq 't';
		$n_reachable++;
		my $relevant = $touched{backup} || grep { /history|backup$/ } keys %touched;
		for my $t (keys %touched)
		{
			next unless $t =~ /^[0-9A-F]{24}$/;
			$relevant = 1
			  if $r->{wal_first} ne '' && $t ge $r->{wal_first} && $t le $r->{wal_last};
		}
		next unless $relevant;
		$n_relevant++;
		# half the budget for the first ones, the rest spread over the run
		next if $n_verified >= $verify_max;
		next if $n_verified >= $verify_max / 2 && rand() >= $verify_max / $n_mutants;
		$n_verified++;
		my $outcome = real_recovery($r);
		if ($outcome ne 'ok')
		{
			push @false_reachable, "$desc => $targets[$k] reachable, but the real recovery: $outcome";
			$failed = 1;
		}
	}

	# Keep what a failed mutant changed (the files no longer hard links to
	# the pristine ones) and how it was made; SEED and ONLY rebuild it all.
	if ($failed && $n_saved++ < 50)
	{
		my $keep = "$failed_dir/mutant_$i";
		make_path($keep);
		spew("$keep/README", "$desc\nSEED=$seed ONLY=$i\n");
		for my $f (split /\n/, `find '$dir' '$bdir' -type f -links 1`)
		{
			(my $rel = $f) =~ s{^\Q$tmp\E/}{};
			$rel =~ s{/}{__}g;
			copy($f, "$keep/$rel");
		}
	}
	remove_tree($dir, $bbase);
	diag(sprintf('progress: %d mutants, %d crashes, %d false ok, %d false reachable, '
		  . '%d false corrupt, %d real recoveries', $n_run, scalar @crashes,
		scalar @false_ok, scalar @false_reachable, scalar @false_corrupt, $n_verified))
	  if $n_run % 250 == 0;
}

diag(sprintf('%d mutants (%s); %d reachable results, %d after a change on their path, '
	  . '%d checked by a real recovery; %d changed segments called ok fetched with restore_command',
	$n_run, join(', ', map { "$_ $classes{$_}" } sort keys %classes),
	$n_reachable, $n_relevant, $n_verified, $n_ok_fetched));
ok(wait_server_up(), 'the server is up after the campaign');
is(scalar @crashes, 0, 'no mutant crashes the server') or diag(join("\n", @crashes));
is(scalar @false_ok, 0, 'no damaged segment is called ok') or diag(join("\n", @false_ok));
is(scalar @false_reachable, 0, 'no target is called reachable where recovery does not get there')
  or diag(join("\n", @false_reachable));
is(scalar @false_corrupt, 0, 'a valid compressed copy of a segment is indexed ok')
  or diag(join("\n", @false_corrupt));
diag("failed mutants kept in $failed_dir; reproduce with SEED=$seed ONLY=<i>")
  if @crashes || @false_ok || @false_reachable || @false_corrupt;

done_testing();
