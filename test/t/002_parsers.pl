# The byte parsers on the committed fuzz corpus, deterministically: every
# harness of test/fuzz/ is built around a plain main() (no libFuzzer, no
# sanitizer) and run once over its corpus and saved crash inputs; what the
# parser said of each input (accepted with which facts, or refused with
# which reason) must be what test/fuzz/expected/<harness>.out records, and
# no harness may break one of its promises (abort).  No server is started.
#
# After a deliberate change to a parser or to the corpus, review the
# difference this test prints and copy the new outcome into
# test/fuzz/expected/ (a version's own outcome, if it differs, goes into
# <harness>_<major>.out).
use strict;
use warnings;
use File::Basename;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = dirname(__FILE__) . '/../..';
my $fuzz = "$top/test/fuzz";
my $out = PostgreSQL::Test::Utils::tempdir('replay');
my ($major) = `pg_config --version` =~ /(\d+)/;

my $ok = system('bash', "$fuzz/replay.sh", $out) == 0;
ok($ok, 'every harness builds and keeps its promises on every input');

my @expected = sort glob("$fuzz/expected/*.out");
cmp_ok(scalar(@expected), '>=', 10, 'every harness has an expected outcome file');
for my $exp (@expected)
{
	my $h = basename($exp, '.out');
	next if $h =~ /_\d+$/;	# a version's alternative, below
	my $got = -f "$out/$h.out" ? slurp_file("$out/$h.out") : '(no output)';
	my $want = slurp_file($exp);
	my $alt = "$fuzz/expected/${h}_$major.out";
	$want = slurp_file($alt) if $got ne $want && -f $alt;
	my $inputs = () = $got =~ /^\S.*:$/mg;
	is($got, $want, "$h: the parser's outcome on each of its $inputs inputs is the recorded one")
	  or diag(`diff -u '$exp' '$out/$h.out'`);
}

done_testing();
