# A backup is certified only if recovery would accept its backup_label:
# recovery reads it with fixed fscanf formats in a fixed order, where our
# own parser is forgiving.  Labels that recovery refuses (lines reordered,
# no "(file ...)" part, a START TIMELINE that disagrees with the file name)
# make the backup unusable, and resolve_target never picks it; each is
# shown to be refused by a real server start.  The untouched backup still
# restores.
use strict;
use warnings;
use PostgreSQL::Test::RecursiveCopy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my ($primary, $archive) = new_primary(name => 'label');
my $bkdir = $primary->backup_dir;
workload($primary, 'a', 5);
$primary->backup('good');
workload($primary, 'b', 5);
wait_archived($primary);

sub slurp_label { open my $fh, '<', $_[0] or die $!; local $/; return <$fh>; }
my $label = slurp_label("$bkdir/good/backup_label");
my @lines = split /\n/, $label;

my %bad = (
	reordered => join("\n", @lines[1, 0], @lines[2 .. $#lines]) . "\n",
	no_file_part => ($label =~ s/ \(file [0-9A-F]{24}\)//r),
	wrong_timeline => ($label =~ s/START TIMELINE: 1/START TIMELINE: 2/r),
);
isnt($bad{no_file_part}, $label, 'the label had a (file ...) part to remove');
isnt($bad{wrong_timeline}, $label, 'the label had a START TIMELINE line to change');

foreach my $name (sort keys %bad)
{
	PostgreSQL::Test::RecursiveCopy::copypath("$bkdir/good", "$bkdir/$name");
	open my $fh, '>', "$bkdir/$name/backup_label" or die $!;
	print $fh $bad{$name};
	close $fh;
}

my $good_target = commit_time_of($primary, 'b3');
foreach my $name (sort keys %bad)
{
	my $problem = $primary->safe_psql('postgres',
		"SELECT coalesce(problem, '') FROM pitr_restore.backups() WHERE location LIKE '%/$name'");
	like($problem, qr/recovery would refuse its backup_label/,
		"backups() marks the backup with a $name label unusable");

	my $res = resolve($primary,
		"target_time => '$good_target', backup_label => '$name'");
	is($res->{reachable}, 'f', "resolve_target does not certify a restore from the $name backup");

	# The independent judge: PostgreSQL itself refuses to start from it.
	my $node = PostgreSQL::Test::Cluster->new("start_$name");
	$node->init_from_backup($primary, $name, has_restoring => 1);
	$node->append_conf('postgresql.conf', "archive_mode = off\n");
	my $started = $node->start(fail_ok => 1);
	ok(!$started, "a server started from the $name backup fails, as predicted");
	like(slurp_label($node->logfile), qr/invalid data in file "backup_label"/,
		"and it says the backup_label is invalid ($name)");
}

# The untouched backup is still chosen and still restores.
my $res = resolve($primary, "target_time => '$good_target'");
is($res->{reachable}, 't', 'the good backup resolves');
like($res->{location}, qr{/good$}, 'and it is the one chosen');
my $node = recover($primary, $res);
is(row_count($node, "tag = 'b3'"), '1', 'the good backup restores to the target');

done_testing();
