# recovery_windows() and resolve_target agree by construction (both read
# the recovery model, src/resolve/model.c): over an archive with two
# timelines, a hole in the first and a hole that a base backup's own
# pg_wal bridges, every window edge is checked.  At each window's from_time
# and just before its to_time a time target resolves reachable on the
# window's timeline; just before its from_time and at its to_time it
# resolves reachable exactly when another window of that timeline holds
# that time.  A sample of edges is proved by a real recovery.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use PitrTest;

my ($primary, $archive) = new_primary(name => 'agree');
$primary->append_conf('postgresql.conf', "autovacuum = off\n");
$primary->reload;

# A second server reads the archive and the backups but writes neither.
my ($node) = new_primary(name => 'agree_reader');
$node->append_conf('postgresql.conf', "pitr_restore.archive_dir = '$archive'\n"
	. "pitr_restore.backup_dir = '" . $primary->backup_dir . "'\n");
$node->reload;
sub pause { $primary->safe_psql('postgres', 'SELECT pg_sleep(0.4)') }

# Timeline 1: b1, four segments of work, b2 (-X stream: it carries the
# WAL from its start to its stop), more work, a restore point.
workload($primary, 'a', 20);
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->backup('b1', backup_options => [ '--label', 'b1' ]);
for my $p ('b', 'bb', 'bbb', 'bbbb')
{
	pause();
	workload($primary, $p, 20);
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
}
# b2's data holds no commit within a second of its stop time
pause();
$primary->backup('b2', backup_options => [ '--label', 'b2', '-Xstream' ]);
sleep(2);
# More work and the restore point rp_end.  Timeline 2: restored to rp_end
# (from b1) and promoted, more work.
my $tl2 = windows_second_timeline($primary, $node, 20, 'agree_timeline2', backup => 'b1');

# A copy of the archive with two holes on timeline 1: a segment between
# b1's consistency point and b2's start (a hole for every backup), and the
# segment b2 starts in (bridged by b2's own pg_wal).
my $dir = PostgreSQL::Test::Utils::tempdir('agree_holed');
{
	opendir(my $dh, $archive) or die;
	copy("$archive/$_", "$dir/$_") or die "copy: $!" for grep { !/^\./ } readdir($dh);
}
my $q = sub { $node->safe_psql('postgres', shift) };
my $hole = $q->(qq{
	SELECT s.file_name FROM pitr_restore.segments() s, pitr_restore.backups() b1,
		   pitr_restore.backups() b2
	 WHERE b1.label = 'b1' AND b2.label = 'b2' AND s.timeline = 1
	   AND s.start_lsn > b1.stop_lsn AND s.end_lsn < b2.start_lsn
	 ORDER BY s.start_lsn OFFSET 1 LIMIT 1});
my $bridged = $q->(q{
	SELECT s.file_name FROM pitr_restore.segments() s, pitr_restore.backups() b
	 WHERE b.label = 'b2' AND s.timeline = 1 AND b.start_lsn >= s.start_lsn
	   AND b.start_lsn < s.end_lsn});
ok($hole && $bridged && $hole ne $bridged, "two segments to lose: $hole and $bridged");
unlink("$dir/$hole", "$dir/$bridged") == 2 or die "unlink: $!";

# The windows of the holed archive.
my @w;
for my $line (split /\n/, $q->(qq{
	SELECT timeline, from_lsn, from_time, to_lsn, to_time,
		   array_to_string(backups, ','), ended_by
	  FROM pitr_restore.recovery_windows('$dir') ORDER BY timeline, from_lsn}))
{
	my @f = split /\|/, $line;
	push @w, { tl => $f[0], from_lsn => $f[1], from_time => $f[2], to_lsn => $f[3],
		to_time => $f[4], backups => $f[5], ended_by => $f[6] };
}
is_deeply([ map { [ $_->{tl}, $_->{backups}, $_->{ended_by} ] } @w ],
	[ [ 1, 'b1', "missing segment $hole" ], [ 1, 'b2', 'branch to timeline 2' ],
	  [ 2, 'b2', 'end of archive' ] ],
	'windows: the hole splits timeline 1 and b2 bridges its own into both timelines')
  or diag(explain(\@w));
my $b2 = $q->(q{SELECT stop_lsn || '|' || stop_time FROM pitr_restore.backups() WHERE label = 'b2'});
my ($b2_stop, $b2_stop_time) = split /\|/, $b2;
is($w[1]{from_lsn}, $b2_stop, "b2's window opens at its consistency point");
ok($q->(qq{SELECT '$w[1]{from_time}'::timestamptz >= '$b2_stop_time'::timestamptz + interval '1 second'}) eq 't',
	"and a second past its stop time, as its own pg_wal is not indexed");

# The timeline of the window that holds t, or 0.
sub inside
{
	my ($t) = @_;
	for my $x (@w)
	{
		return $x->{tl} if $q->(qq{SELECT '$t'::timestamptz >= '$x->{from_time}'
			AND '$t'::timestamptz < '$x->{to_time}'}) eq 't';
	}
	return 0;
}

sub resolve_at
{
	my ($t) = @_;
	return resolve($node, "target_time => '$t', archive_dir => '$dir'");
}

# Every edge, and a microsecond to either side.
my %checked;
my @recoverable;
for my $x (@w)
{
	for my $edge ([ 'from', $x->{from_time} ], [ 'to', $x->{to_time} ])
	{
		for my $shift ('-1 microsecond', '0', '1 microsecond')
		{
			my $t = $q->(qq{SELECT '$edge->[1]'::timestamptz + interval '$shift'});
			next if $checked{$t}++;
			my $tl = inside($t);
			my $want = $tl ? 't' : 'f';
			my $r = resolve_at($t);
			is($r->{reachable}, $want,
				"timeline $x->{tl}'s $edge->[0] edge $shift ($t): reachable is $want as the windows say")
			  or diag($r->{reason});
			next unless $r->{reachable} eq 't' && $tl;
			is($r->{timeline}, $tl, "  and on timeline $tl, the window's");
			push @recoverable, [ $t, $r ] if $shift eq '0';
		}
	}
}
cmp_ok(scalar @recoverable, '>=', 3, 'several edges are reachable');

# A sample proved by real recoveries: the first instant of b2's window
# (WAL from its own pg_wal) and of timeline 2's.  Each keeps exactly the
# rows committed by then (timeline 2's ledger holds timeline 1's rows with
# their commit times), last_xid and not next_xid.
for my $t ($w[1]{from_time}, $w[2]{from_time})
{
	my ($pair) = grep { $_->[0] eq $t } @recoverable;
	ok($pair, "$t was resolved reachable") or next;
	my $r = $pair->[1];
	my $rec = recover($primary, $r);
	my $rows = q{SELECT count(*) || ' ' || string_agg(tag, ',' ORDER BY tag) FROM ledger};
	is($rec->safe_psql('postgres', $rows),
		$tl2->safe_psql('postgres', "$rows WHERE pg_xact_commit_timestamp(xid::text::xid) <= '$t'"),
		"recovery to $t keeps exactly the rows committed by then");
	is(row_count($rec, "xid = $r->{last_xid}"), '1', "and last_xid $r->{last_xid}")
	  if $r->{last_xid} ne '';
	is(row_count($rec, "xid = $r->{next_xid}"), '0', "and loses next_xid $r->{next_xid}")
	  if $r->{next_xid} ne '';
	$rec->stop('immediate');
}

done_testing();
