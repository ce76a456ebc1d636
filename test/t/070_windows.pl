# What can be restored, at a glance: recovery_windows() agrees with
# resolve_target (inside a window reachable, in a gap or past the end not,
# one inside time proved by a real recovery), check_archive() reports a
# gap, a stalled archive, old backups and a backup without its WAL, and
# nothing for a healthy archive; timeline_chart() draws the lanes, markers
# and legend; timeline_svg() is well-formed and renders in Chromium.
use strict;
use warnings;
use File::Basename;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary(name => 'windows');
# No transaction but the workload's on timeline 1 (autoanalyze commits).
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->reload;

# Everything is asked of another server, which reads the archive and the
# backups but writes neither (its own index writes would otherwise be
# transactions on the timelines under test).
my ($node) = new_primary(name => 'reader');
$node->append_conf('postgresql.conf', "pitr_restore.archive_dir = '$archive'\n"
	. "pitr_restore.backup_dir = '" . $primary->backup_dir . "'\n");
$node->reload;
sub pause { $primary->safe_psql('postgres', 'SELECT pg_sleep(0.4)') }

# Timeline 1: backup b1, several segments, a mark and a restore point,
# backup b2, more work, a last restore point; then the primary stops.
workload($primary, 'a', 30);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b1', backup_options => [ '--label', 'b1' ]);
for my $p ('b', 'bb', 'bbb')
{
	workload($primary, $p, 30);
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	pause();
}
$primary->safe_psql('postgres', q{BEGIN; INSERT INTO ledger (tag) VALUES ('marked');
	SELECT pitr_restore.mark_transaction('m_mid', 'middle'); COMMIT;});
$primary->safe_psql('postgres', q{SELECT pg_create_restore_point('rp_mid')});
$primary->backup('b2', backup_options => [ '--label', 'b2' ]);
pause();
# More work and a last restore point, rp_end.  Timeline 2: restored to
# rp_end and promoted, more work; timeline 1 is abandoned.
my $tl2 = windows_second_timeline($primary, $node, 30, 'timeline2');

# The windows, as rows of hashes.
sub windows
{
	my ($dir) = @_;
	my $arg = defined $dir ? "'$dir'" : 'NULL';
	my @rows;
	for my $line (split /\n/, $node->safe_psql('postgres', qq{
		SELECT timeline, from_lsn, from_time, to_lsn, to_time,
			   array_to_string(backups, ','), ended_by,
			   from_time + (to_time - from_time) / 2
		  FROM pitr_restore.recovery_windows($arg) ORDER BY timeline, from_lsn}))
	{
		my @f = split /\|/, $line;
		push @rows, { tl => $f[0], from_lsn => $f[1], from_time => $f[2],
			to_lsn => $f[3], to_time => $f[4], backups => $f[5],
			ended_by => $f[6], mid => $f[7] };
	}
	return @rows;
}

sub resolve_at
{
	my ($t, $tl, $dir) = @_;
	my $extra = defined $dir ? ", archive_dir => '$dir'" : '';
	return resolve($node, "target_time => '$t', target_timeline => $tl$extra");
}

# Any time inside a window resolves reachable on its timeline (its first
# instant and its middle); its end does not, when nothing follows.
sub check_agreement
{
	my ($w, $dir, $what) = @_;
	for my $t ($w->{from_time}, $w->{mid})
	{
		my $r = resolve_at($t, $w->{tl}, $dir);
		is($r->{reachable}, 't', "$what: $t inside the window resolves reachable")
		  or diag($r->{reason});
	}
	my $r = resolve_at($w->{to_time}, $w->{tl}, $dir);
	is($r->{reachable}, 'f', "$what: $w->{to_time}, the window's end, does not");
	return $r;
}

my @w = windows();
my $branch = $node->safe_psql('postgres',
	'SELECT branch_lsn FROM pitr_restore.timelines() WHERE timeline = 2');
is(scalar @w, 2, 'one window per timeline');
is_deeply([ map { [ $_->{tl}, $_->{backups}, $_->{ended_by} ] } @w ],
	[ [ 1, 'b1,b2', 'branch to timeline 2' ], [ 2, 'b1,b2', 'end of archive' ] ],
	'timeline 1 ends where timeline 2 branched off; both backups reach both');
is($w[1]{from_lsn}, $branch, "timeline 2's window begins at its branch point");
is($w[0]{to_lsn}, $branch, "timeline 1's window ends there");
my $b1_stop = $node->safe_psql('postgres',
	q{SELECT stop_lsn FROM pitr_restore.backups() WHERE label = 'b1'});
is($w[0]{from_lsn}, $b1_stop, "timeline 1's window begins where b1 is consistent");
check_agreement($w[0], undef, 'timeline 1');
check_agreement($w[1], undef, 'timeline 2');
my $t_a10 = $tl2->safe_psql('postgres', q{
	SELECT pg_xact_commit_timestamp(xid::text::xid) FROM ledger WHERE tag = 'a10'});
ok($t_a10 lt $w[0]{from_time}, 'a10 committed before the first window');
is(resolve_at($t_a10, 1)->{reachable}, 'f', 'and a time before the first window is unreachable');

# One inside time proved by a real recovery: bb15's commit time.
my $t_bb15 = $tl2->safe_psql('postgres', q{
	SELECT pg_xact_commit_timestamp(xid::text::xid) FROM ledger WHERE tag = 'bb15'});
ok($t_bb15 ge $w[0]{from_time} && $t_bb15 lt $w[0]{to_time}, 'bb15 lies inside the window of timeline 1');
my $res = resolve_at($t_bb15, 1);
my $rec = recover($primary, $res);
is($rec->safe_psql('postgres', q{SELECT string_agg(tag, ',' ORDER BY tag)
	FROM ledger WHERE tag IN ('bb14', 'bb15', 'bb16')}), 'bb14,bb15',
	'recovering to a time inside the window keeps bb15 and loses bb16');
$rec->stop('immediate');

# A healthy archive has nothing to report; a stalled archive and old
# backups are reported when the limits say so.
is($node->safe_psql('postgres', 'SELECT count(*) FROM pitr_restore.check_archive()'), '0',
	'a healthy archive: check_archive() is empty');
like($node->safe_psql('postgres',
	q{SELECT string_agg(severity || ' ' || problem || ': ' || detail, E'\n')
		FROM pitr_restore.check_archive(max_age => '1 microsecond')}),
	qr/^critical archive_stale: The newest archived WAL file, 00000002\w+, was written at/,
	'an old archive is reported, naming its newest file');
like($node->safe_psql('postgres',
	q{SELECT string_agg(severity || ' ' || problem || ': ' || detail, E'\n')
		FROM pitr_restore.check_archive(max_backup_age => '1 microsecond')}),
	qr/^warning backup_old: The newest usable base backup, "b2", finished at/,
	'an old backup is reported, naming the newest usable one');

# A copy of the archive with a middle segment of timeline 1 deleted,
# between b1's consistency point and b2's start.
my $holed = copy_archive($archive, 'holed');
my $victim = $node->safe_psql('postgres', qq{
	SELECT s.file_name FROM pitr_restore.segments() s, pitr_restore.backups() b1,
		   pitr_restore.backups() b2
	 WHERE b1.label = 'b1' AND b2.label = 'b2' AND s.timeline = 1
	   AND s.start_lsn > b1.stop_lsn AND s.end_lsn < b2.start_lsn
	 ORDER BY s.start_lsn OFFSET 1 LIMIT 1});
ok($victim, "a middle segment to delete: $victim");
unlink "$holed/$victim" or die;
@w = windows($holed);
is_deeply([ map { [ $_->{tl}, $_->{backups}, $_->{ended_by} ] } @w ],
	[ [ 1, 'b1', "missing segment $victim" ], [ 1, 'b2', 'branch to timeline 2' ],
	  [ 2, 'b2', 'end of archive' ] ],
	'the missing segment splits the window of timeline 1 at its name');
my $r = check_agreement($w[0], $holed, 'before the cut');
like($r->{reason}, qr/\Q$victim\E is missing|"b2" .* already holds transactions/,
	'the window\'s end is unreachable: b1 stops at the hole, b2 is too new');
check_agreement($w[1], $holed, 'after the cut');
my $in_gap = $node->safe_psql('postgres',
	"SELECT '$w[0]{to_time}'::timestamptz + ('$w[1]{from_time}'::timestamptz - '$w[0]{to_time}') / 2");
$r = resolve_at($in_gap, 1, $holed);
is($r->{reachable}, 'f', "a time in the gap ($in_gap) is unreachable");
like($r->{reason}, qr/\Q$victim\E is missing|already holds transactions/, 'and the reason says why');
check_agreement($w[2], $holed, 'timeline 2 in the holed archive');
my $problems = $node->safe_psql('postgres',
	qq{SELECT string_agg(severity || ' ' || problem || ': ' || detail, E'\n')
		 FROM pitr_restore.check_archive('$holed')});
like($problems, qr/^critical wal_gap: WAL on timeline 1 is not continuous: missing segment \Q$victim\E/m,
	'check_archive reports the gap in the live timeline\'s history');
is(scalar(split /\n/, $problems), 1, 'and nothing else');

# A copy with that segment cut short instead: the window ends at it, as
# a corrupt segment, and check_archive names the file too.
my $cut = copy_archive($archive, 'cut');
truncate("$cut/$victim", 8192) or die;
@w = windows($cut);
is_deeply([ map { [ $_->{tl}, $_->{backups}, $_->{ended_by} ] } @w ],
	[ [ 1, 'b1', "corrupt segment $victim" ], [ 1, 'b2', 'branch to timeline 2' ],
	  [ 2, 'b2', 'end of archive' ] ],
	'an unusable segment splits the window at its name');
$r = resolve_at($w[0]{to_time}, 1, $cut);
is($r->{reachable}, 'f', 'the end of the window before an unusable segment is unreachable');
$problems = $node->safe_psql('postgres',
	qq{SELECT string_agg(severity || ' ' || problem || ': ' || detail, E'\n' ORDER BY problem)
		 FROM pitr_restore.check_archive('$cut')});
like($problems, qr/^warning truncated_file: \Q$victim\E \(timeline 1\) is truncated: /m,
	'check_archive names the unusable file');
like($problems, qr/^critical wal_gap: WAL on timeline 1 is not continuous: corrupt segment \Q$victim\E/m,
	'and the gap it makes');

# The README's monitoring job fails on a critical problem, naming it.
my ($rc, $o, $e) = $node->psql('postgres', qq{
	DO \$check\$
	DECLARE p text;
	BEGIN
	  SELECT string_agg(c.problem || ': ' || c.detail, E'\\n') INTO p
		FROM pitr_restore.check_archive('$holed', max_age => '30 minutes') c
	   WHERE c.severity = 'critical';
	  IF p IS NOT NULL THEN
		RAISE EXCEPTION 'WAL archive check failed: %', p;
	  END IF;
	END
	\$check\$});
like($e, qr/ERROR:  WAL archive check failed: wal_gap: WAL on timeline 1/, 'the monitoring job fails on the gap');

# A copy without the segment where b2 starts: b2 cannot be made consistent.
my $nob2 = copy_archive($archive, 'nob2');
my $b2_first = $node->safe_psql('postgres', q{
	SELECT s.file_name FROM pitr_restore.segments() s, pitr_restore.backups() b
	 WHERE b.label = 'b2' AND s.timeline = 1 AND b.start_lsn >= s.start_lsn
	   AND b.start_lsn < s.end_lsn});
unlink "$nob2/$b2_first" or die;
# b2 (-X stream) carries that segment in its own pg_wal, which recovery
# reads when the archive lacks it: b2 stays usable (044_backup_wal.pl).
unlike($node->safe_psql('postgres',
	qq{SELECT string_agg(severity || ' ' || problem || ': ' || detail, E'\n')
		 FROM pitr_restore.check_archive('$nob2')}),
	qr/backup_wal_incomplete: Base backup "b2"/,
	'a backup carrying the segment the archive lacks is not reported');
# Without its own copy too, b2 cannot be made consistent.
my $b2_wal = $primary->backup_dir . "/b2/pg_wal/$b2_first";
rename($b2_wal, "$b2_wal.aside") or die "rename: $!";
$node->safe_psql('postgres', "SELECT pitr_restore.scan_archive('$nob2')");
like($node->safe_psql('postgres',
	qq{SELECT string_agg(severity || ' ' || problem || ': ' || detail, E'\n')
		 FROM pitr_restore.check_archive('$nob2')}),
	qr/^critical backup_wal_incomplete: Base backup "b2" in \S+ cannot be made consistent: \Q$b2_first\E is missing/m,
	'a backup whose WAL is incomplete is reported, naming the segment');
rename("$b2_wal.aside", $b2_wal) or die "rename: $!";
$node->safe_psql('postgres', "SELECT pitr_restore.scan_archive('$nob2')");

# The text chart: one lane per timeline, markers, the axis and a legend.
sub chart
{
	my ($args) = @_;
	return split /\n/, $node->safe_psql('postgres',
		"SELECT * FROM pitr_restore.timeline_chart($args)");
}
my @chart = chart('width => 80');
my @lanes = grep { /^TL \d+ +(│|\|)/ } @chart;
is(scalar @lanes, 2, 'two lanes') or diag(join("\n", @chart));
my ($l1) = grep { /^TL 1 / } @lanes;
my ($l2) = grep { /^TL 2 / } @lanes;
note(join("\n", @chart));
{
	use utf8;
	utf8::decode($_) for ($l1, $l2, @chart);
	is(length($l1), 80, 'a lane is as wide as asked');
	is(length($l2), 80, 'every lane is');
	like($l1, qr/━/, 'timeline 1 has a restorable window');
	like($l1, qr/B/, 'backups are on timeline 1');
	like($l1, qr/R/, 'restore points are on timeline 1');
	like($l1, qr/M/, 'the mark is on timeline 1');
	like($l2, qr/^TL 2 +│ +╰━/, 'timeline 2 starts with a branch, then its window');
	ok(index($l1, '━') < index($l2, '╰'), 'timeline 2 begins after timeline 1');
	ok(grep({ /^legend: ━━ restorable window +┄┄ WAL no usable backup reaches +✕ missing or corrupt segment/ } @chart),
		'the legend explains the lines');
	ok(grep({ /B base backup .* R restore point +M mark +╰ branch/ } @chart), 'and the markers');
	ok(grep({ /^TL 1 .*backups: b1, b2 +ended by branch to timeline 2$/ } @chart), 'the windows are listed');
	my @holed = chart("'$holed', 80");
	note(join("\n", @holed));	# as bytes: 17+'s TAP output dies on wide characters
	utf8::decode($_) for @holed;
	ok(grep({ /^TL 1 .*[━BRM]✕/ } @holed), 'a hole ends a window with a cross');
	my @ascii = chart("'$holed', 80, ascii => true");
	ok(!grep({ /[^\x00-\x7f]/ } @ascii), 'ascii => true draws in plain ASCII');
	ok(grep({ /^TL 2 +\| +\\=/ } @ascii), 'with the branch and window in ASCII');
	ok(grep({ /^TL 1 .*[=BRM]x/ } @ascii), 'and the hole');
}

# Only members of pg_read_server_files may look.
$node->safe_psql('postgres', q{CREATE ROLE nobody LOGIN; CREATE ROLE reader LOGIN IN ROLE pg_read_server_files});
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM pitr_restore.recovery_windows()',
	extra_params => [ '-U', 'nobody' ]);
like($err, qr/permission denied/, 'a role without pg_read_server_files cannot list windows');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pitr_restore.recovery_windows()',
	extra_params => [ '-U', 'reader' ]), '2', 'a member of pg_read_server_files can');
($ret, $out, $err) = $node->psql('postgres', q{SELECT * FROM pitr_restore.chart_items(NULL)},
	extra_params => [ '-U', 'reader' ]);
like($err, qr/permission denied/, 'the internal item list is not granted');

# The SVG: well-formed, and Chromium renders it with the windows in green
# and the hole in red.
my $svg_dir = PostgreSQL::Test::Utils::tempdir('svg');
my $red_legend;
for my $case ([ 'full', 'NULL' ], [ 'holed', "'$holed'" ])
{
	my ($name, $arg) = @$case;
	my $file = "$svg_dir/$name.svg";
	my $svg = $node->safe_psql('postgres', "SELECT pitr_restore.timeline_svg($arg, 100)");
	open(my $fh, '>', $file) or die;
	print $fh $svg;
	close $fh;
	my ($xout, $xerr) = run_command([ 'xmllint', '--noout', $file ]);
	is($xerr, '', "$name: the SVG is well-formed XML");
	my ($w, $h) = $svg =~ /<svg [^>]*width="(\d+)" height="(\d+)"/;
	my $png = "$svg_dir/$name.png";
	my $profile = PostgreSQL::Test::Utils::tempdir("chromium_$name");
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDOUT, '>', "$svg_dir/chromium_$name.log");
		open(STDERR, '>&', \*STDOUT);
		exec('timeout', '120', 'chromium', '--headless', '--no-sandbox', '--disable-gpu',
		'--disable-quic', '--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--hide-scrollbars',
		"--user-data-dir=$profile", "--screenshot=$png", "--window-size=$w,$h",
		"file://$file") or die "chromium: $!";
	}
	waitpid($pid, 0);
	ok(-s $png, "$name: Chromium took a screenshot");
	my %px = png_colours($png);
	note("$name: " . join(', ', map { "$_ $px{$_}" } sort keys %px));
	cmp_ok($px{ink}, '>', 5000, "$name: the picture is not blank");
	cmp_ok($px{green}, '>', 500, "$name: the windows are drawn");
	cmp_ok($px{blue}, '>', 50, "$name: the backups are drawn");
	# the legend's cross is red too: the hole adds to it
	$red_legend //= $px{red};
	cmp_ok($px{red}, '>', $red_legend + 30, "$name: the hole is drawn") if $name eq 'holed';
	copy($file, "$PostgreSQL::Test::Utils::tmp_check/timeline_$name.svg");
	copy($png, "$PostgreSQL::Test::Utils::tmp_check/timeline_$name.png");
}

# Count pixels by colour in an 8-bit RGB or RGBA PNG (no module needed but
# the core zlib one): any ink, the windows' green, the backups' blue and
# the holes' red.
sub png_colours
{
	my ($file) = @_;
	require Compress::Zlib;
	open(my $fh, '<:raw', $file) or die "$file: $!";
	local $/;
	my $d = <$fh>;
	die "$file is not a PNG" unless substr($d, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($w, $h, $depth, $type, $idat, $pos) = (0, 0, 0, 0, '', 8);
	while ($pos < length $d)
	{
		my ($len, $tag) = unpack('N a4', substr($d, $pos, 8));
		my $chunk = substr($d, $pos + 8, $len);
		($w, $h, $depth, $type) = unpack('N N C C', $chunk) if $tag eq 'IHDR';
		$idat .= $chunk if $tag eq 'IDAT';
		$pos += 12 + $len;
	}
	die "unsupported PNG ($depth bits, colour type $type)"
	  unless $depth == 8 && ($type == 2 || $type == 6);
	my $bpp = $type == 6 ? 4 : 3;
	my $raw = Compress::Zlib::uncompress($idat) // die 'bad IDAT';
	my $stride = $w * $bpp;
	my @prev = (0) x $stride;
	my %n = (ink => 0, green => 0, blue => 0, red => 0);
	for my $y (0 .. $h - 1)
	{
		my $off = $y * ($stride + 1);
		my $f = ord(substr($raw, $off, 1));
		my @cur = unpack('C*', substr($raw, $off + 1, $stride));
		for my $i (0 .. $stride - 1)
		{
			my $a = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
			my $b = $prev[$i];
			my $c = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
			my $p = $f == 1 ? $a : $f == 2 ? $b : $f == 3 ? ($a + $b) >> 1 : 0;
			if ($f == 4)
			{
				my $e = $a + $b - $c;
				my ($pa, $pb, $pc) = (abs($e - $a), abs($e - $b), abs($e - $c));
				$p = ($pa <= $pb && $pa <= $pc) ? $a : $pb <= $pc ? $b : $c;
			}
			$cur[$i] = ($cur[$i] + $p) & 255;
		}
		for (my $i = 0; $i < $stride; $i += $bpp)
		{
			my ($r, $g, $bl) = @cur[ $i .. $i + 2 ];
			next if $r > 240 && $g > 240 && $bl > 240;
			$n{ink}++;
			$n{green}++ if $g > 130 && $r < 90 && $bl < 120;
			$n{blue}++ if $bl > 180 && $r < 60 && $g < 140;
			$n{red}++ if $r > 170 && $g < 70 && $bl < 80;
		}
		@prev = @cur;
	}
	return %n;
}

done_testing();
